import { RewindError } from './errors';
import { logKey } from './keys';
import { type ChangeRecord, compareSequenceNumbers, kdsDynamoRecord, toChangeRecord } from './log-format';
import { formatHourBucket, type Micros } from './time';

/**
 * The pure part of shipping a Kinesis batch to log objects (docs/design.md §3.1, §3.4, §4):
 * decoding, grouping into deterministic objects, and how far the batch lets the shard
 * checkpoint move.
 */

/** A Kinesis record that is not a Kinesis-Data-Streams-for-DynamoDB change. */
export class MalformedChangeRecordError extends RewindError {
  constructor(
    readonly sequenceNumber: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`record ${sequenceNumber} is not a DynamoDB change record: ${problem}`, options);
  }
}

/** Lambda gives ApproximateArrivalTimestamp in (fractional) seconds; we keep microseconds. */
export const arrivalMicros = (seconds: number): Micros => Math.round(seconds * 1_000_000);

/** `shardId-000000000001:4959…` → `shardId-000000000001`. */
export const shardOfEventId = (eventId: string): string => eventId.slice(0, eventId.lastIndexOf(':'));

/** Decode one record's base64 `data`; throws `MalformedChangeRecordError` naming the problem. */
export function decodeChangeRecord(data: string, shardId: string, sequenceNumber: string): ChangeRecord {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch (error) {
    throw new MalformedChangeRecordError(sequenceNumber, 'data is not JSON', { cause: error });
  }
  const parsed = kdsDynamoRecord.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'record';
    throw new MalformedChangeRecordError(sequenceNumber, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return toChangeRecord(parsed.data, shardId, sequenceNumber);
}

/** The records of one log object: one shard, one table, one UTC hour of change time. */
export interface LogGroup {
  key: string;
  table: string;
  shardId: string;
  /** In sequence order, one per sequence number. */
  records: ChangeRecord[];
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  minTs: Micros;
  maxTs: Micros;
}

/**
 * Group changes by (shard, table, hour of change time). The key comes from the group's first
 * record in sequence order, so the same batch always yields the same keys and the same bytes:
 * a retried batch rewrites its objects instead of adding new ones.
 */
export function groupChanges(cluster: string, changes: Iterable<ChangeRecord>): LogGroup[] {
  const groups = new Map<string, Map<string, ChangeRecord>>();
  for (const change of changes) {
    const id = `${change.shardId}\u0000${change.table}\u0000${formatHourBucket(change.ts)}`;
    const group = groups.get(id) ?? new Map<string, ChangeRecord>();
    group.set(change.sequenceNumber, change);
    groups.set(id, group);
  }
  const result: LogGroup[] = [];
  for (const group of groups.values()) {
    const records = [...group.values()].sort((a, b) =>
      compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber),
    );
    const first = records[0];
    const last = records[records.length - 1];
    if (!first || !last) continue;
    result.push({
      key: logKey(cluster, first.table, first.ts, first.shardId, first.sequenceNumber),
      table: first.table,
      shardId: first.shardId,
      records,
      firstSequenceNumber: first.sequenceNumber,
      lastSequenceNumber: last.sequenceNumber,
      minTs: Math.min(...records.map((r) => r.ts)),
      maxTs: Math.max(...records.map((r) => r.ts)),
    });
  }
  return result.sort((a, b) => a.key.localeCompare(b.key));
}

/** NDJSON text of a log object: one ChangeRecord per line, fields in a fixed order. */
export function logObjectText(records: ChangeRecord[]): string {
  let text = '';
  for (const r of records) {
    text += `${JSON.stringify({
      table: r.table,
      op: r.op,
      keys: r.keys,
      newImage: r.newImage,
      ts: r.ts,
      eventId: r.eventId,
      shardId: r.shardId,
      sequenceNumber: r.sequenceNumber,
    })}\n`;
  }
  return text;
}

export interface ShardProgress {
  /** Every record of the shard that arrived at or before this is shipped. */
  shippedTs: Micros;
  /** Last record of the contiguous shipped prefix; absent when the first record failed. */
  lastSequenceNumber?: string;
  /** The first record (sequence order) that failed; Lambda retries the shard from it. */
  firstFailure?: { sequenceNumber: string; ts: Micros };
  /** Whether the batch's first record was shipped (it may carry a hold from a failed try). */
  firstShipped: boolean;
  firstSequenceNumber: string;
}

/**
 * How far one shard's batch moves its checkpoint. Lambda delivers a shard in sequence order
 * and only after the previous batch is done, and arrival times grow with sequence numbers,
 * so everything before the batch is shipped already. Then:
 * - no failure: every record up to the last one is shipped, and any later record arrives at or
 *   after the last one's arrival A, so shippedTs = A − 1 µs (the same millisecond may hold
 *   more records not yet delivered);
 * - a failure: Lambda retries from the first failed record F (lowest sequence number), so the
 *   checkpoint must stay below it: shippedTs = arrival(F) − 1 µs, whatever else succeeded.
 * Good records after F are shipped anyway (and again on the retry): if the batch is finally
 * dropped they are still in the log; replay drops the duplicates.
 */
export function shardProgress(
  records: { sequenceNumber: string; arrival: Micros }[],
  failed: ReadonlySet<string>,
): ShardProgress | undefined {
  const ordered = [...records].sort((a, b) => compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber));
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  if (!first || !last) return undefined;
  const f = ordered.findIndex((r) => failed.has(r.sequenceNumber));
  const failure = ordered[f];
  if (!failure) {
    return {
      shippedTs: last.arrival - 1,
      lastSequenceNumber: last.sequenceNumber,
      firstShipped: true,
      firstSequenceNumber: first.sequenceNumber,
    };
  }
  return {
    shippedTs: failure.arrival - 1,
    lastSequenceNumber: ordered[f - 1]?.sequenceNumber,
    firstFailure: { sequenceNumber: failure.sequenceNumber, ts: failure.arrival - 1 },
    firstShipped: f > 0,
    firstSequenceNumber: first.sequenceNumber,
  };
}
