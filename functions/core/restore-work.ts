import { canonicalJsonItem, type JsonItem } from './dynamo-json';
import { InvalidInputError, RewindError } from './errors';
import type { ChangeRecord } from './log-format';
import type { Manifest } from './manifest';

/**
 * Pure pieces of the restore state machine's work: target names, the (table, segment) load
 * units, the (table, partition) replay units, and the key-hash partitioning a replay worker
 * filters the log with.
 */

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const PREFIX = /^[A-Za-z0-9_.-]{1,200}$/;

/** `targetPrefix + source`, checked against DynamoDB's table-name rule. */
export function targetTableName(targetPrefix: string, source: string): string {
  if (!PREFIX.test(targetPrefix))
    throw new InvalidInputError('targetPrefix', `1-200 characters of [A-Za-z0-9_.-], got "${targetPrefix}"`);
  const target = `${targetPrefix}${source}`;
  if (!TABLE_NAME.test(target))
    throw new InvalidInputError(
      'targetPrefix',
      `a prefix that makes valid table names (3-255 of [A-Za-z0-9_.-]), but "${target}" is not`,
    );
  return target;
}

/** A (table, segment) of the snapshot: one load worker reads that segment's chunks in order. */
export interface LoadUnit {
  table: string;
  segment: number;
}

/** Every segment that holds at least one chunk, table by table (empty segments need no work). */
export function loadUnits(manifest: Manifest, tables: string[]): LoadUnit[] {
  const units: LoadUnit[] = [];
  for (const entry of manifest.tables) {
    const table = entry.schema.tableName;
    if (!tables.includes(table)) continue;
    const segments = [...new Set(entry.chunks.map((c) => c.segment))].sort((a, b) => a - b);
    for (const segment of segments) units.push({ table, segment });
  }
  return units;
}

/** A (table, partition) of the log: one replay worker applies the changes of its key hashes. */
export interface ReplayUnit {
  table: string;
  partition: number;
  partitions: number;
}

export interface PartitionPolicy {
  /** A worker keeps at most about this many change records (its winners map is at most that). */
  targetRecordsPerPartition: number;
  maxPartitions: number;
}

/** Partitions for a table whose log window holds `records` change records. */
export function choosePartitions(records: number, policy: PartitionPolicy): number {
  const wanted = Math.ceil(Math.max(0, records) / Math.max(1, policy.targetRecordsPerPartition));
  return Math.min(Math.max(1, policy.maxPartitions), Math.max(1, wanted));
}

/** 32-bit FNV-1a of a string's UTF-16 code units: fast, stable, well spread for key texts. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Partition of an item: by the canonical text of its key, so every record of a key agrees. */
export const partitionOfKeys = (keys: JsonItem, partitions: number): number =>
  partitions <= 1 ? 0 : fnv1a(canonicalJsonItem(keys)) % partitions;

/** A log line that is not a change record. */
export class MalformedLogLineError extends RewindError {
  constructor(
    readonly key: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`log object ${key}, line ${line}: ${problem}`);
  }
}

const OPS = new Set(['INSERT', 'MODIFY', 'REMOVE']);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Check the fields replay relies on; cheaper than a schema parse on the hot path. */
export function asChangeRecord(value: unknown, key: string, line: number): ChangeRecord {
  const fail = (problem: string) => new MalformedLogLineError(key, line, problem);
  if (!isObject(value)) throw fail('not a JSON object');
  if (typeof value.table !== 'string') throw fail('table is not a string');
  if (typeof value.op !== 'string' || !OPS.has(value.op)) throw fail('op is not INSERT, MODIFY or REMOVE');
  if (!isObject(value.keys)) throw fail('keys is not an object');
  if (value.newImage !== undefined && !isObject(value.newImage)) throw fail('newImage is not an object');
  if (typeof value.ts !== 'number' || !Number.isSafeInteger(value.ts)) throw fail('ts is not an integer');
  return value as unknown as ChangeRecord;
}

/**
 * ship-log writes each line with `table`, `op` and `keys` first. For such a line the key object
 * is cut out of the line's bytes and hashed without decoding or parsing the (usually much
 * larger) new image, so a worker pays a full parse only for the records of its own partition.
 * Any other shape takes the full parse. Scanning bytes for `"`, `\`, `{`, `}` is safe in UTF-8:
 * no multi-byte sequence contains an ASCII byte.
 */
const FAST_PREFIX = /^\{"table":"[A-Za-z0-9_.-]+","op":"(?:INSERT|MODIFY|REMOVE)","keys":$/;
const KEYS_MARK = Buffer.from('"keys":');

function keysSlice(line: Buffer): string | undefined {
  const at = line.indexOf(KEYS_MARK);
  if (at < 0 || at > 300) return undefined;
  const start = at + KEYS_MARK.length;
  if (line[start] !== 123 /* { */ || !FAST_PREFIX.test(line.toString('latin1', 0, start))) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 /* } */ && --depth === 0) return line.toString('utf8', start, i + 1);
  }
  return undefined;
}

/**
 * A key of one or two scalar attributes, names in sorted order, no escape sequences: then the
 * text is exactly `canonicalJsonItem` of what it parses to (JSON.stringify escapes nothing in a
 * string without quotes, backslashes or control characters), so it can be hashed as it is.
 */
const CANONICAL_KEYS = /^\{"([^"\\]+)":\{"[SNB]":"[^"\\]*"\}(?:,"([^"\\]+)":\{"[SNB]":"[^"\\]*"\})?\}$/;

function partitionOfKeyText(slice: string, partitions: number, key: string, lineNo: number): number {
  const match = CANONICAL_KEYS.exec(slice);
  if (match && (match[2] === undefined || (match[1] as string) < match[2])) return fnv1a(slice) % partitions;
  let keys: unknown;
  try {
    keys = JSON.parse(slice);
  } catch {
    throw new MalformedLogLineError(key, lineNo, 'keys are not JSON');
  }
  if (!isObject(keys)) throw new MalformedLogLineError(key, lineNo, 'keys is not an object');
  return partitionOfKeys(keys as JsonItem, partitions);
}

/**
 * The change record of a log line if it belongs to `partition` of `partitions`, else undefined.
 * Both paths hash the same canonical key text, so they always agree.
 */
export function decodeIfMine(
  line: Buffer | string,
  partition: number,
  partitions: number,
  key: string,
  lineNo: number,
): ChangeRecord | undefined {
  const bytes = typeof line === 'string' ? Buffer.from(line) : line;
  if (partitions > 1) {
    const slice = keysSlice(bytes);
    if (slice !== undefined) {
      if (partitionOfKeyText(slice, partitions, key, lineNo) !== partition) return undefined;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof line === 'string' ? line : line.toString('utf8'));
  } catch {
    throw new MalformedLogLineError(key, lineNo, 'not JSON');
  }
  const change = asChangeRecord(parsed, key, lineNo);
  return partitionOfKeys(change.keys, partitions) === partition ? change : undefined;
}
