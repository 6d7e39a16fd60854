import { z } from 'zod';
import { canonicalJsonItem, type JsonItem } from './dynamo-json';
import type { Micros } from './time';

/**
 * Change records: what Kinesis Data Streams for DynamoDB puts in each Kinesis record's data,
 * and what Rewind stores, one per line, in gzip NDJSON log objects (docs/design.md §4).
 */

/** The Kinesis stream that carries cluster C's changes (CDK and the local bridge both use it). */
export const logStreamName = (cluster: string) => `rewind-log-${cluster}`;

export function clusterOfStream(streamNameOrArn: string): string | undefined {
  const name = streamNameOrArn.split('/').pop() ?? '';
  return name.startsWith('rewind-log-') ? name.slice('rewind-log-'.length) : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An item in DynamoDB JSON: an object whose every attribute is an object. Checked, not rebuilt:
 * zod's `z.record` copies into a fresh object by assignment, and `out["__proto__"] = …` sets the
 * copy's prototype, so an attribute named `__proto__` vanished (zod 4.6.7). The parsed object
 * itself, own keys from JSON.parse, is passed on as it is.
 */
export const jsonItemSchema = z.custom<Record<string, Record<string, unknown>>>(
  (v) => isRecord(v) && Object.values(v).every(isRecord),
  'expected an item: an object of attribute values',
);
const jsonItem = jsonItemSchema;

/**
 * The `data` of one Kinesis record written by Kinesis Data Streams for DynamoDB. With
 * `ApproximateCreationDateTimePrecision` MICROSECOND the timestamp is in microseconds since
 * the epoch; with MILLISECOND (the older default) in milliseconds.
 */
export const kdsDynamoRecord = z.object({
  awsRegion: z.string().optional(),
  eventID: z.string().min(1),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventSource: z.literal('aws:dynamodb'),
  recordFormat: z.literal('application/json').optional(),
  tableName: z.string().min(1),
  userIdentity: z.unknown().optional(),
  dynamodb: z.object({
    ApproximateCreationDateTime: z.number().positive(),
    ApproximateCreationDateTimePrecision: z.enum(['MICROSECOND', 'MILLISECOND']).optional(),
    Keys: jsonItem,
    NewImage: jsonItem.optional(),
    OldImage: jsonItem.optional(),
    SizeBytes: z.number().int().nonnegative().optional(),
  }),
});
export type KdsDynamoRecord = z.infer<typeof kdsDynamoRecord>;

/** One line of a log object. `ts` is the change's ApproximateCreationDateTime in µs. */
const storedItem = jsonItem as unknown as z.ZodType<JsonItem>;

export const changeRecord = z.object({
  table: z.string(),
  op: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  keys: storedItem,
  newImage: storedItem.optional(),
  ts: z.number().int(),
  eventId: z.string(),
  shardId: z.string(),
  sequenceNumber: z.string(),
});
export type ChangeRecord = z.infer<typeof changeRecord>;

export function toChangeRecord(
  record: KdsDynamoRecord,
  shardId: string,
  sequenceNumber: string,
): ChangeRecord {
  const { ApproximateCreationDateTime: at, ApproximateCreationDateTimePrecision: precision } =
    record.dynamodb;
  const ts: Micros = precision === 'MILLISECOND' ? Math.round(at * 1000) : Math.round(at);
  return {
    table: record.tableName,
    op: record.eventName,
    keys: record.dynamodb.Keys as JsonItem,
    newImage: record.eventName === 'REMOVE' ? undefined : (record.dynamodb.NewImage as JsonItem | undefined),
    ts,
    eventId: record.eventID,
    shardId,
    sequenceNumber,
  };
}

/** Identity of the item a change touches: table + canonical key. */
export const itemIdentity = (change: Pick<ChangeRecord, 'table' | 'keys'>) =>
  `${change.table}\u0000${canonicalJsonItem(change.keys)}`;

/** Kinesis sequence numbers are decimal strings up to 128 bits: compare by length, then text. */
export function compareSequenceNumbers(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
