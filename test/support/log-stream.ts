import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { LogCatalog } from '../../functions/adapters/log-catalog';
import type { ObjectStore } from '../../functions/adapters/object-store';
import type { JsonItem } from '../../functions/core/dynamo-json';
import type { ChangeRecord } from '../../functions/core/log-format';
import { applyChanges, latestChanges } from '../../functions/core/replay';
import { kinesisClient, type LocalConfig } from '../../local/clients';
import { parseLogObject, type StreamRecord } from './log-fixtures';

/**
 * A kinesalite of the test's own. The shared local cloud runs the event-source poller, which
 * ships every `rewind-log-*` stream it finds; these tests drive ship-log by hand (to inject
 * retries, duplicates and failures at exact points), so their streams live where it cannot see
 * them. DynamoDB Local and s3rver are the shared ones.
 */
export async function privateKinesis(cfg: LocalConfig) {
  const require = createRequire(import.meta.url);
  const kinesalite = require('kinesalite') as (options: object) => import('node:http').Server;
  const server = kinesalite({ createStreamMs: 10, deleteStreamMs: 10, updateStreamMs: 10, shardLimit: 1000 });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const kinesis = kinesisClient({
    ...cfg,
    endpoints: { ...cfg.endpoints, kinesis: `http://127.0.0.1:${port}` },
  });
  return {
    kinesis,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitActive(kinesis, name);
}

export async function waitActive(kinesis: KinesisClient, name: string): Promise<void> {
  for (;;) {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PutRecords in order, 500 at a time. */
export async function putRecords(
  kinesis: KinesisClient,
  stream: string,
  records: { data: string | Uint8Array; partitionKey: string }[],
): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const { FailedRecordCount } = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((r) => ({ Data: Buffer.from(r.data), PartitionKey: r.partitionKey })),
      }),
    );
    if (FailedRecordCount) throw new Error(`${FailedRecordCount} records not put`);
  }
}

export async function shardIds(kinesis: KinesisClient, stream: string): Promise<string[]> {
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
  return (Shards ?? []).map((s) => s.ShardId ?? '');
}

/** Every record of a shard from TRIM_HORIZON (what the event source mapping would deliver). */
export async function readShard(
  kinesis: KinesisClient,
  stream: string,
  shardId: string,
): Promise<StreamRecord[]> {
  let { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const records: StreamRecord[] = [];
  while (ShardIterator) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
    for (const r of page.Records ?? []) {
      records.push({
        shardId,
        sequenceNumber: r.SequenceNumber ?? '',
        arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
        data: r.Data ?? new Uint8Array(),
        partitionKey: r.PartitionKey,
      });
    }
    if ((page.Records ?? []).length === 0) break;
    ShardIterator = page.NextShardIterator;
  }
  return records;
}

export const batches = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Every change in the table's log objects, each object's checksum verified against the index. */
export async function loggedChanges(
  store: ObjectStore,
  logCatalog: LogCatalog,
  cluster: string,
  table: string,
): Promise<ChangeRecord[]> {
  const changes: ChangeRecord[] = [];
  for (const object of await logCatalog.listLogObjects(cluster, table, 0, Number.MAX_SAFE_INTEGER)) {
    const body = await store.get(object.key);
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (sha256 !== object.sha256) throw new Error(`checksum mismatch for ${object.key}`);
    const records = parseLogObject(body);
    if (records.length !== object.records)
      throw new Error(`${object.key}: index says ${object.records} records`);
    changes.push(...records);
  }
  return changes;
}

/** Per-item last-writer-wins replay of the log from empty tables (itemIdentity → item). */
export function replayState(changes: ChangeRecord[]): { state: Map<string, JsonItem>; duplicates: number } {
  const { winners, duplicates } = latestChanges(changes, Number.MAX_SAFE_INTEGER);
  return { state: applyChanges(new Map(), winners), duplicates };
}
