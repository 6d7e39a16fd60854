import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { LogCatalog } from '../../functions/adapters/log-catalog';
import type { ObjectStore } from '../../functions/adapters/object-store';
import { ObjectNotFoundError } from '../../functions/adapters/s3-object-store';
import type { JsonItem } from '../../functions/core/dynamo-json';
import { logKey } from '../../functions/core/keys';
import { type ChangeRecord, changeRecord, itemIdentity } from '../../functions/core/log-format';
import { LOG_SCHEMA_VERSION } from '../../functions/core/log-model';
import type { Micros } from '../../functions/core/time';

/**
 * Fixtures for log-backup tests: Kinesis-Data-Streams-for-DynamoDB records, Lambda Kinesis
 * events built from them, an in-memory object store, and a seeded workload of changes with the
 * state it must replay to.
 */

export const streamArn = (cluster: string) =>
  `arn:aws:kinesis:us-east-1:000000000000:stream/rewind-log-${cluster}`;

export interface Change {
  table: string;
  op: 'INSERT' | 'MODIFY' | 'REMOVE';
  keys: JsonItem;
  newImage?: JsonItem;
  oldImage?: JsonItem;
  ts: Micros;
}

/** The JSON Kinesis Data Streams for DynamoDB puts in a record (MICROSECOND precision). */
export function kdsRecord(change: Change, eventId = `ev-${change.table}-${change.ts}`) {
  return {
    awsRegion: 'us-east-1',
    eventID: eventId,
    eventName: change.op,
    userIdentity: null,
    recordFormat: 'application/json',
    tableName: change.table,
    dynamodb: {
      ApproximateCreationDateTime: change.ts,
      ApproximateCreationDateTimePrecision: 'MICROSECOND',
      Keys: change.keys,
      ...(change.newImage ? { NewImage: change.newImage } : {}),
      ...(change.oldImage ? { OldImage: change.oldImage } : {}),
      SizeBytes: 100,
    },
    eventSource: 'aws:dynamodb',
  };
}

export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  /** ApproximateArrivalTimestamp in ms. */
  arrivalMs: number;
  /** The raw record data. */
  data: Uint8Array | string;
  partitionKey?: string;
}

/** Lambda's Kinesis event for these records (what the event source mapping sends ship-log). */
export function kinesisEvent(cluster: string, records: StreamRecord[]) {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey ?? 'pk',
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: r.arrivalMs / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${r.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/rewind-ship-log',
      awsRegion: 'us-east-1',
      eventSourceARN: streamArn(cluster),
    })),
  };
}

export const json = (value: unknown) => JSON.stringify(value);

/** An ObjectStore in memory (unit tests); counts puts so tests can see rewrites. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  puts = 0;

  async put(key: string, body: string | Uint8Array): Promise<void> {
    this.puts++;
    this.objects.set(key, Buffer.from(body));
  }
  async upload(key: string, body: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(Buffer.from(part as Uint8Array));
    await this.put(key, Buffer.concat(parts));
  }
  async get(key: string): Promise<Buffer> {
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(key);
    return body;
  }
  async getStream(key: string): Promise<Readable> {
    return Readable.from([await this.get(key)]);
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    for (const key of [...this.objects.keys()].sort()) {
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)?.length ?? 0 };
    }
  }
  async delete(keys: string[]): Promise<number> {
    for (const key of keys) this.objects.delete(key);
    return keys.length;
  }
}

/** The ChangeRecords of one log object (gunzip, one JSON per line, schema-checked). */
export function parseLogObject(body: Buffer): ChangeRecord[] {
  return gunzipSync(body)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => changeRecord.parse(JSON.parse(line)));
}

/** Deterministic PRNG (mulberry32) so a failing workload can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  changes: Change[];
  /** itemIdentity → final item, as replay must reproduce it. */
  expected: Map<string, JsonItem>;
}

/**
 * `count` changes over `itemsPerTable` items of each table, in time order: INSERT when the
 * item is absent, else MODIFY or REMOVE. Timestamps strictly increase from `startTs`.
 */
export function workload(tables: string[], count: number, itemsPerTable: number, startTs: Micros, seed = 7) {
  const random = prng(seed);
  const live = new Map<string, JsonItem>();
  const changes: Change[] = [];
  let ts = startTs;
  for (let i = 0; i < count; i++) {
    const table = tables[Math.floor(random() * tables.length)] ?? '';
    const keys: JsonItem = { pk: { S: `item-${Math.floor(random() * itemsPerTable)}` }, sk: { N: '1' } };
    const id = itemIdentity({ table, keys });
    ts += 1 + Math.floor(random() * 1_000);
    const current = live.get(id);
    const image: JsonItem = { ...keys, version: { N: String(i) }, note: { S: `change ${i} of ${table}` } };
    if (!current) {
      changes.push({ table, op: 'INSERT', keys, newImage: image, ts });
      live.set(id, image);
    } else if (random() < 0.25) {
      changes.push({ table, op: 'REMOVE', keys, oldImage: current, ts });
      live.delete(id);
    } else {
      changes.push({ table, op: 'MODIFY', keys, newImage: image, oldImage: current, ts });
      live.set(id, image);
    }
  }
  return { changes, expected: live } satisfies Workload;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * A shipped log object as ship-log leaves it (placeholder body): the object in `store` and its
 * index entry in `logCatalog`, for retention tests. Returns the key.
 */
export async function shipPlaceholderLogObject(
  deps: { store: ObjectStore; logCatalog: LogCatalog },
  at: { cluster: string; table: string; ts: Micros; sequence: string },
): Promise<string> {
  const { cluster, table, ts, sequence } = at;
  const key = logKey(cluster, table, ts, 'shardId-000000000000', sequence);
  await deps.store.put(key, 'x');
  await deps.logCatalog.putLogObject({
    schemaVersion: LOG_SCHEMA_VERSION,
    cluster,
    key,
    table,
    shardId: 'shardId-000000000000',
    firstSequenceNumber: sequence,
    lastSequenceNumber: sequence,
    minTs: ts,
    maxTs: ts,
    records: 1,
    rawBytes: 1,
    bytes: 1,
    sha256: '0'.repeat(64),
    writtenAt: ts,
  });
  return key;
}
