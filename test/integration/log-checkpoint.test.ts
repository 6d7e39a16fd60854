import { type KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { run as advanceCheckpoint } from '../../functions/advance-checkpoint/run';
import { canonicalJsonItem } from '../../functions/core/dynamo-json';
import { run as shipLog } from '../../functions/ship-log/run';
import { dynamoClient, s3Client } from '../../local/clients';
import { uniqueName } from '../support/cloud';
import { registerCluster } from '../support/clusters';
import { json, kdsRecord, kinesisEvent, workload } from '../support/log-fixtures';
import {
  batches,
  createStream,
  privateKinesis,
  putRecords,
  readShard,
  shardIds,
  waitActive,
} from '../support/log-stream';

const cfg = inject('localConfig');
const dynamodb = dynamoClient(cfg);
const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);
const now = () => Date.now() * 1000;
const MARGIN = 100_000; // 100 ms: the propagation margin of these tests
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let kinesis: KinesisClient;
let stopKinesis: () => Promise<void>;
beforeAll(async () => {
  ({ kinesis, stop: stopKinesis } = await privateKinesis(cfg));
});
afterAll(() => stopKinesis());

const catalog = new DynamoCatalog(dynamodb, cfg.catalogTable);

/** advance-checkpoint serves registered clusters: register it first (idempotent). */
const advance = async (cluster: string) => {
  if (!(await catalog.getCluster(cluster))) await registerCluster(catalog, cluster, ['orders', 'users']);
  return advanceCheckpointOnce(cluster);
};

const advanceCheckpointOnce = (cluster: string) =>
  advanceCheckpoint(
    { cluster },
    {
      catalog,
      logCatalog,
      kinesis,
      now,
      config: { marginMicros: MARGIN, shardConcurrency: 4 },
    },
  ).then((r) => r.clusters[0]);

async function putChanges(stream: string, count: number, seed: number) {
  const load = workload(['orders', 'users'], count, 20, now(), seed);
  await putRecords(
    kinesis,
    stream,
    load.changes.map((c, i) => ({
      data: json(kdsRecord(c, `ev-${seed}-${i}`)),
      partitionKey: `${c.table}/${canonicalJsonItem(c.keys)}`,
    })),
  );
  return Math.max(...load.changes.map((c) => c.ts));
}

async function shipShard(cluster: string, stream: string, shardId: string) {
  const records = await readShard(kinesis, stream, shardId);
  for (const batch of batches(records, 50))
    await shipLog(kinesisEvent(cluster, batch), { store, logCatalog, now });
  return records;
}

describe('checkpoint advancer on kinesalite and DynamoDB Local', () => {
  it('advances idle shards to the stream tip, never past a record still to ship, and only forward', async () => {
    // Prepare
    const cluster = uniqueName('cp');
    const stream = `rewind-log-${cluster}`;
    await createStream(kinesis, stream, 2);
    const started = now();
    // Act 1: an empty stream is caught up
    const idle = await advance(cluster);
    // Assess 1
    expect(idle?.shards.map((s) => s.action)).toEqual(['advanced', 'advanced']);
    expect(idle?.checkpoint).toBeGreaterThanOrEqual(started - MARGIN);
    expect(idle?.computed?.activeShards).toBe(2);

    // Act 2: changes arrive, nothing ships them yet
    const lastWrite = await putChanges(stream, 80, 1);
    const behind = await advance(cluster);
    // Assess 2: the checkpoint stays below the first unshipped record of every shard
    for (const shardId of await shardIds(kinesis, stream)) {
      const [first] = await readShard(kinesis, stream, shardId);
      if (first) expect(behind?.checkpoint).toBeLessThan(first.arrivalMs * 1000 - MARGIN);
    }
    expect(behind?.checkpoint).toBeGreaterThanOrEqual(idle?.checkpoint ?? 0);

    // Act 3: ship everything, let the margin pass, advance
    for (const shardId of await shardIds(kinesis, stream)) await shipShard(cluster, stream, shardId);
    await pause(150);
    const caughtUp = await advance(cluster);
    // Assess 3: the checkpoint has passed the last write
    expect(caughtUp?.checkpoint).toBeGreaterThanOrEqual(lastWrite);
    expect(caughtUp?.checkpoint).toBeLessThanOrEqual(now() - MARGIN);
    expect(caughtUp?.rpoSeconds).toBeLessThan(5);
    expect(await logCatalog.getClusterCheckpoint(cluster)).toMatchObject({
      checkpoint: caughtUp?.checkpoint,
      marginMicros: MARGIN,
      activeShards: 2,
    });
  });

  it('resharding: a split parent closes once shipped to its end, then its children bound the checkpoint', async () => {
    // Prepare: one shard with changes, split in two, more changes into the children
    const cluster = uniqueName('split');
    const stream = `rewind-log-${cluster}`;
    await createStream(kinesis, stream, 1);
    await putChanges(stream, 40, 2);
    const [parent = ''] = await shardIds(kinesis, stream);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent,
        NewStartingHashKey: '170141183460469231731687303715884105728',
      }),
    );
    await waitActive(kinesis, stream);
    const lastWrite = await putChanges(stream, 40, 3);
    const children = (await shardIds(kinesis, stream)).filter((id) => id !== parent);

    // Act 1: the parent still holds unshipped records
    const unshipped = await advance(cluster);
    // Assess 1
    const status = (report: typeof unshipped) =>
      Object.fromEntries((report?.shards ?? []).map((s) => [s.shardId, s.status]));
    expect(children).toHaveLength(2);
    expect(status(unshipped)).toEqual({
      [parent]: 'active',
      [children[0] ?? '']: 'waiting',
      [children[1] ?? '']: 'waiting',
    });
    const [firstOfParent] = await readShard(kinesis, stream, parent);
    expect(unshipped?.checkpoint).toBeLessThan((firstOfParent?.arrivalMs ?? 0) * 1000 - MARGIN);

    // Act 2: ship the parent; the advancer closes it and starts the children
    await shipShard(cluster, stream, parent);
    const split = await advance(cluster);
    // Assess 2
    expect(status(split)).toEqual({
      [parent]: 'closed',
      [children[0] ?? '']: 'active',
      [children[1] ?? '']: 'active',
    });
    expect(await logCatalog.getShardCheckpoint(cluster, parent)).toMatchObject({ closed: true });
    for (const child of children) {
      const [first] = await readShard(kinesis, stream, child);
      if (first) expect(split?.checkpoint).toBeLessThan(first.arrivalMs * 1000 - MARGIN);
    }
    expect(split?.checkpoint).toBeGreaterThanOrEqual(unshipped?.checkpoint ?? 0);

    // Act 3: ship the children
    for (const child of children) await shipShard(cluster, stream, child);
    await pause(150);
    const done = await advance(cluster);
    // Assess 3
    expect(done?.checkpoint).toBeGreaterThanOrEqual(lastWrite);
    expect(done?.computed).toMatchObject({ activeShards: 2 });
  });

  it('reports a cluster without a log stream instead of failing', async () => {
    // Act
    const report = await advance(uniqueName('nostream'));
    // Assess
    expect(report).toMatchObject({ stream: 'missing', advanced: false, shards: [] });
    expect(report?.checkpoint).toBeUndefined();
  });
});
