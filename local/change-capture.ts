import { createHash } from 'node:crypto';
import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException as TableMissing,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis';
import { nowMicros } from '../functions/adapters/clock';
import { type AttributeValue, type Item, itemToJson, type JsonItem } from '../functions/core/dynamo-json';
import { RewindError, TableNotFoundError } from '../functions/core/errors';
import { itemIdentity, type KdsDynamoRecord, logStreamName } from '../functions/core/log-format';
import type { Micros } from '../functions/core/time';
import { type ClientSettings, dynamoClient, kinesisClient } from './clients';

/**
 * Local stand-in for AWS's EnableKinesisStreamingDestination (with
 * ApproximateCreationDateTimePrecision MICROSECOND): the cluster's Kinesis stream on kinesalite,
 * and DynamoDB Streams (NEW_AND_OLD_IMAGES) on every table, which the change bridge
 * (local/change-bridge.ts) copies into that stream in the Kinesis-Data-Streams-for-DynamoDB format.
 * Also the pure part of that copy: the record format, partition key and timestamps.
 */

export interface ChangeCaptureOptions {
  /** Shards of a newly created stream (default 2); an existing stream keeps its own. */
  shardCount?: number;
  /** How long to wait for the stream and the tables to become ACTIVE (default 30 s). */
  timeoutMs?: number;
}

export interface ChangeCapture {
  streamName: string;
  streamArn: string;
  /** DynamoDB stream of each table, in the order given. */
  tables: { tableName: string; streamArn: string }[];
}

/** A table already streams with a view type that lacks the images a change record needs. */
export class ChangeCaptureError extends RewindError {
  constructor(
    readonly tableName: string,
    readonly problem: string,
  ) {
    super(`cannot capture changes of table "${tableName}": ${problem}`);
  }
}

const VIEW_TYPE = 'NEW_AND_OLD_IMAGES';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function ensureStream(
  kinesis: KinesisClient,
  streamName: string,
  shardCount: number,
  deadline: number,
): Promise<string> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (;;) {
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (s?.StreamStatus === 'ACTIVE' || s?.StreamStatus === 'UPDATING') return s.StreamARN ?? '';
    if (Date.now() > deadline)
      throw new RewindError(`Kinesis stream ${streamName} still ${s?.StreamStatus} after waiting`);
    await sleep(50);
  }
}

async function ensureTableStream(dynamodb: DynamoDBClient, tableName: string, deadline: number) {
  for (;;) {
    const described = await dynamodb
      .send(new DescribeTableCommand({ TableName: tableName }))
      .catch((err: unknown) => {
        throw err instanceof TableMissing ? new TableNotFoundError(tableName) : err;
      });
    const t = described.Table;
    const spec = t?.StreamSpecification;
    if (spec?.StreamEnabled) {
      if (spec.StreamViewType !== VIEW_TYPE)
        throw new ChangeCaptureError(
          tableName,
          `its stream has view type ${spec.StreamViewType}; change capture needs ${VIEW_TYPE} (disable the stream first)`,
        );
      if (t?.TableStatus === 'ACTIVE' && t.LatestStreamArn) return t.LatestStreamArn;
    } else if (t?.TableStatus === 'ACTIVE') {
      await dynamodb.send(
        new UpdateTableCommand({
          TableName: tableName,
          StreamSpecification: { StreamEnabled: true, StreamViewType: VIEW_TYPE },
        }),
      );
      continue;
    }
    if (Date.now() > deadline)
      throw new ChangeCaptureError(tableName, `still ${t?.TableStatus} after waiting`);
    await sleep(100);
  }
}

/**
 * Create `rewind-log-<cluster>` (idempotent: an existing stream is kept) and enable
 * NEW_AND_OLD_IMAGES streams on `tables` (idempotent). Throws TableNotFoundError for a missing
 * table and ChangeCaptureError for a table already streaming another view type.
 */
export async function enableChangeCapture(
  cfg: ClientSettings<'dynamodb' | 'kinesis'>,
  cluster: string,
  tables: string[],
  opts: ChangeCaptureOptions = {},
): Promise<ChangeCapture> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const streamName = logStreamName(cluster);
  const kinesis = kinesisClient(cfg);
  const dynamodb = dynamoClient(cfg);
  try {
    const streamArn = await ensureStream(kinesis, streamName, opts.shardCount ?? 2, deadline);
    const streams = [];
    for (const tableName of tables)
      streams.push({ tableName, streamArn: await ensureTableStream(dynamodb, tableName, deadline) });
    return { streamName, streamArn, tables: streams };
  } finally {
    kinesis.destroy();
    dynamodb.destroy();
  }
}

/**
 * Bridge-wide clock for change timestamps: max(previous + 1, now, the stream's own timestamp).
 * Strictly increasing across the bridge, so per item too, in DynamoDB stream order.
 */
export function createTimestamper(now: () => Micros = nowMicros): (streamMicros: Micros) => Micros {
  let last = 0;
  return (streamMicros) => {
    last = Math.max(last + 1, now(), streamMicros);
    return last;
  };
}

/** Kinesis partition key: a hash of table + canonical key, so an item always maps to one shard. */
export const partitionKeyOf = (tableName: string, keys: JsonItem): string =>
  createHash('sha256')
    .update(itemIdentity({ table: tableName, keys }))
    .digest('hex');

/**
 * DynamoDB Local's streams write an empty map as `{}` instead of `{"M":{}}` (at any depth);
 * every other AttributeValue has exactly one type key, so a value without one is an empty map.
 */
export function repairStreamItem(item: Record<string, unknown>): Item {
  // fromEntries keeps an attribute named `__proto__` an own property (assignment would not).
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, repairValue(value as Record<string, unknown>)]),
  );
}

function repairValue(value: Record<string, unknown>): AttributeValue {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M && typeof value.M === 'object')
    return { M: repairStreamItem(value.M as Record<string, unknown>) };
  if (Array.isArray(value.L)) return { L: value.L.map((v) => repairValue(v as Record<string, unknown>)) };
  return value as AttributeValue;
}

/** One DynamoDB Streams record in the Kinesis-Data-Streams-for-DynamoDB format. */
export function toKdsRecord(
  record: StreamRecord,
  tableName: string,
  region: string,
  ts: Micros,
): KdsDynamoRecord {
  const d = record.dynamodb ?? {};
  const json = (item: Record<string, unknown> | undefined) =>
    item ? itemToJson(repairStreamItem(item)) : undefined;
  const eventName = record.eventName;
  if (!record.eventID || !eventName || !d.Keys)
    throw new RewindError(`DynamoDB stream record of ${tableName} lacks eventID, eventName or Keys`);
  return {
    awsRegion: region,
    eventID: record.eventID,
    eventName,
    userIdentity: record.userIdentity ?? null,
    recordFormat: 'application/json',
    tableName,
    dynamodb: {
      ApproximateCreationDateTime: ts,
      ApproximateCreationDateTimePrecision: 'MICROSECOND',
      Keys: json(d.Keys) as JsonItem,
      ...(d.NewImage ? { NewImage: json(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: json(d.OldImage) } : {}),
      SizeBytes: d.SizeBytes ?? 0,
    },
    eventSource: 'aws:dynamodb',
  };
}
