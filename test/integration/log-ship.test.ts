import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import type { LogCatalog } from '../../functions/adapters/log-catalog';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { run as advanceCheckpoint } from '../../functions/advance-checkpoint/run';
import { canonicalJsonItem, type JsonItem } from '../../functions/core/dynamo-json';
import { run as recordGap } from '../../functions/record-gap/run';
import { run as shipLog } from '../../functions/ship-log/run';
import { dynamoClient, s3Client } from '../../local/clients';
import { uniqueName } from '../support/cloud';
import { registerCluster } from '../support/clusters';
import {
  json,
  kdsRecord,
  kinesisEvent,
  prng,
  type StreamRecord,
  shuffle,
  streamArn,
  workload,
} from '../support/log-fixtures';
import {
  batches,
  createStream,
  loggedChanges,
  privateKinesis,
  putRecords,
  readShard,
  replayState,
  shardIds,
} from '../support/log-stream';

const cfg = inject('localConfig');
const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);
const logCatalog = new DynamoLogCatalog(dynamoClient(cfg), cfg.catalogTable);
const catalog = new DynamoCatalog(dynamoClient(cfg), cfg.catalogTable);
const now = () => Date.now() * 1000;
const deps = { store, logCatalog, now };
const canonical = (state: Map<string, JsonItem>) =>
  new Map([...state].map(([id, item]) => [id, canonicalJsonItem(item)]));

let kinesis: KinesisClient;
let stopKinesis: () => Promise<void>;
beforeAll(async () => {
  ({ kinesis, stop: stopKinesis } = await privateKinesis(cfg));
});
afterAll(() => stopKinesis());

/** A cluster whose stream holds `changes` (KDS-for-DynamoDB records, partitioned by item). */
async function streamOf(records: { data: string; partitionKey: string }[], shards = 2) {
  const cluster = uniqueName('log');
  const stream = `rewind-log-${cluster}`;
  await createStream(kinesis, stream, shards);
  await putRecords(kinesis, stream, records);
  const byShard = new Map<string, StreamRecord[]>();
  for (const shardId of await shardIds(kinesis, stream))
    byShard.set(shardId, await readShard(kinesis, stream, shardId));
  return { cluster, stream, byShard };
}

const changeRecords = (changes: ReturnType<typeof workload>['changes']) =>
  changes.map((c, i) => ({
    data: json(kdsRecord(c, `ev-${i}`)),
    partitionKey: `${c.table}/${canonicalJsonItem(c.keys)}`,
  }));

/** What the event source mapping does when every batch succeeds. */
async function shipAll(cluster: string, byShard: Map<string, StreamRecord[]>, batchSize: number) {
  for (const records of byShard.values()) {
    for (const batch of batches(records, batchSize)) {
      const result = await shipLog(kinesisEvent(cluster, batch), deps);
      expect(result.batchItemFailures).toEqual([]);
    }
  }
}

describe('ship-log on kinesalite, s3rver and DynamoDB Local', () => {
  const tables = ['orders', 'users'];

  it('ships every change of a two-table workload; per-item replay reproduces the final state', async () => {
    // Prepare: 600 INSERT/MODIFY/REMOVE changes over 2 tables × 40 items, on 2 shards
    const load = workload(tables, 600, 40, now());
    const { cluster, byShard } = await streamOf(changeRecords(load.changes));
    // Act
    await shipAll(cluster, byShard, 100);
    // Assess
    const logged = (
      await Promise.all(tables.map((t) => loggedChanges(store, logCatalog, cluster, t)))
    ).flat();
    expect(new Set(logged.map((c) => c.eventId)).size).toBe(600);
    expect(logged).toHaveLength(600);
    expect(canonical(replayState(logged).state)).toEqual(canonical(load.expected));
    for (const [shardId, records] of byShard) {
      const last = records.at(-1);
      expect(await logCatalog.getShardCheckpoint(cluster, shardId)).toMatchObject({
        shippedTs: (last?.arrivalMs ?? 0) * 1000 - 1,
        lastSequenceNumber: last?.sequenceNumber,
      });
    }
  });

  it('duplicates and shuffled order injected into the stream change nothing in the replayed result', async () => {
    // Prepare: the same workload, put in random order with 30% of the records put again
    const load = workload(tables, 600, 40, now(), 11);
    const random = prng(5);
    const records = changeRecords(load.changes);
    const injected = shuffle([...records, ...records.filter(() => random() < 0.3)], random);
    const { cluster, byShard } = await streamOf(injected);
    // Act
    await shipAll(cluster, byShard, 75);
    // Assess
    const logged = (
      await Promise.all(tables.map((t) => loggedChanges(store, logCatalog, cluster, t)))
    ).flat();
    const { state, duplicates } = replayState(logged);
    expect(logged.length).toBe(injected.length);
    expect(duplicates).toBeGreaterThan(0);
    expect(canonical(state)).toEqual(canonical(load.expected));
  });

  it('a batch that fails after writing its object, then is retried, leaves no duplicate effect and no backwards checkpoint', async () => {
    // Prepare: one shard; the catalog fails the first checkpoint write (after object + index)
    const load = workload(tables, 120, 10, now(), 23);
    const { cluster, byShard } = await streamOf(changeRecords(load.changes), 1);
    const [shardId, records] = [...byShard][0] ?? ['', []];
    const [first = [], ...rest] = batches(records, 40);
    let failNext = true;
    const flaky: LogCatalog = Object.create(logCatalog, {
      advanceShard: {
        value: async (advance: Parameters<LogCatalog['advanceShard']>[0]) => {
          if (failNext) {
            failNext = false;
            throw new Error('ProvisionedThroughputExceeded');
          }
          return logCatalog.advanceShard(advance);
        },
      },
    });
    const event = kinesisEvent(cluster, first);
    // Act
    await expect(shipLog(event, { ...deps, logCatalog: flaky })).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
    const heldAfterFailure = await logCatalog.listHolds(cluster);
    const keys = (await logCatalog.listLogObjects(cluster, tables[0] ?? '', 0, Number.MAX_SAFE_INTEGER)).map(
      (o) => o.key,
    );
    const bytes = await Promise.all(keys.map((k) => store.get(k)));
    const retried = await shipLog(event, { ...deps, logCatalog: flaky });
    const afterRetry = await logCatalog.getShardCheckpoint(cluster, shardId);
    const older = await shipLog(kinesisEvent(cluster, first.slice(0, 15)), deps); // a late, shorter redelivery
    // Assess
    expect(heldAfterFailure.map((h) => h.sequenceNumber)).toEqual([first[0]?.sequenceNumber]);
    expect(retried.shards[0]?.advanced).toBe(true);
    expect(await logCatalog.listHolds(cluster)).toEqual([]);
    expect(await Promise.all(keys.map((k) => store.get(k)))).toEqual(bytes);
    expect(older.shards[0]?.advanced).toBe(false);
    expect(await logCatalog.getShardCheckpoint(cluster, shardId)).toEqual(afterRetry);
    expect(afterRetry?.shippedTs).toBe((first.at(-1)?.arrivalMs ?? 0) * 1000 - 1);
    for (const batch of rest) await shipLog(kinesisEvent(cluster, batch), deps);
    const logged = (
      await Promise.all(tables.map((t) => loggedChanges(store, logCatalog, cluster, t)))
    ).flat();
    expect(logged).toHaveLength(120);
    expect(canonical(replayState(logged).state)).toEqual(canonical(load.expected));
  });

  it('malformed records become batch item failures, then a recorded gap — never a silent drop', async () => {
    // Prepare: good, not JSON, good, wrong shape, good — on one shard
    const load = workload(['orders'], 3, 3, now(), 3);
    const [a, b, c] = changeRecords(load.changes);
    const { cluster, byShard } = await streamOf(
      [
        a,
        { data: '{"truncated', partitionKey: 'x' },
        b,
        { data: json({ eventName: 'INSERT' }), partitionKey: 'y' },
        c,
      ].map((r) => r ?? { data: '', partitionKey: 'z' }),
      1,
    );
    const [shardId, records] = [...byShard][0] ?? ['', []];
    const seq = records.map((r) => r.sequenceNumber);
    // Act: the event source mapping retries from the first failure, twice, then gives up
    let batch = records;
    const attempts = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await shipLog(kinesisEvent(cluster, batch), deps);
      attempts.push(result.batchItemFailures.map((f) => f.itemIdentifier));
      batch = records.slice(
        records.findIndex((r) => r.sequenceNumber === result.batchItemFailures[0]?.itemIdentifier),
      );
    }
    const beforeGap = await logCatalog.getShardCheckpoint(cluster, shardId);
    const heldBeforeGap = await logCatalog.listHolds(cluster);
    const dropped = records.slice(1);
    const onFailure = {
      requestContext: {
        requestId: 'r',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ship-log',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: dropped[0]?.sequenceNumber,
        endSequenceNumber: dropped.at(-1)?.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(dropped[0]?.arrivalMs ?? 0).toISOString(),
        approximateArrivalOfLastRecord: new Date(dropped.at(-1)?.arrivalMs ?? 0).toISOString(),
        batchSize: dropped.length,
        streamArn: streamArn(cluster),
      },
    };
    await registerCluster(catalog, cluster, ['orders']);
    const gapDeps = { catalog, logCatalog, now, config: { marginMicros: 1_000_000 } };
    const recorded = await recordGap(onFailure, gapDeps);
    const again = await recordGap(onFailure, gapDeps);
    // Assess
    expect(attempts).toEqual([
      [seq[1], seq[3]],
      [seq[1], seq[3]],
      [seq[1], seq[3]],
    ]);
    expect(beforeGap).toMatchObject({
      shippedTs: (records[1]?.arrivalMs ?? 0) * 1000 - 1,
      lastSequenceNumber: seq[0],
    });
    expect(heldBeforeGap.map((h) => h.sequenceNumber)).toEqual([seq[1]]);
    expect(recorded.gaps.map((g) => [g.recorded, g.holdsReleased, g.shardAdvanced])).toEqual([
      [true, 1, true],
    ]);
    expect(again.gaps.map((g) => g.recorded)).toEqual([false]);
    const [gap] = await logCatalog.listGaps(cluster);
    expect(gap).toMatchObject({
      shardId,
      startSequenceNumber: seq[1],
      endSequenceNumber: seq[4],
      records: 4,
    });
    expect(gap?.fromTs).toBeLessThanOrEqual((records[1]?.arrivalMs ?? 0) * 1000 - 1_000_000);
    expect(gap?.toTs).toBeGreaterThanOrEqual((records[4]?.arrivalMs ?? 0) * 1000);
    expect(await logCatalog.listHolds(cluster)).toEqual([]);
    expect((await logCatalog.getShardCheckpoint(cluster, shardId))?.lastSequenceNumber).toBe(seq[4]);
    const logged = await loggedChanges(store, logCatalog, cluster, 'orders');
    // Retries from the first failure ship the good records after it again (harmless duplicates).
    expect([...new Set(logged.map((l) => l.sequenceNumber))].sort()).toEqual([seq[0], seq[2], seq[4]].sort());
  });

  it('a dropped record holds the cluster checkpoint until its gap is recorded, even after later batches ship', async () => {
    // Prepare: a good and a malformed record; the mapping gives up on the latter
    const load = workload(['orders'], 3, 3, now(), 9);
    const [a, d, e] = changeRecords(load.changes);
    const { cluster, stream, byShard } = await streamOf(
      [a, { data: 'not json', partitionKey: 'x' }].map((r) => r ?? { data: '', partitionKey: 'z' }),
      1,
    );
    const [shardId, records] = [...byShard][0] ?? ['', []];
    // advance-checkpoint serves registered clusters only.
    await registerCluster(catalog, cluster, ['orders']);
    const failed = await shipLog(kinesisEvent(cluster, records), deps);
    const advance = () =>
      advanceCheckpoint(
        { cluster },
        { catalog, logCatalog, kinesis, now, config: { marginMicros: 100_000, shardConcurrency: 2 } },
      ).then((r) => r.clusters[0]);
    // Act 1: Lambda moves on before record-gap has run; the next batch ships
    await putRecords(
      kinesis,
      stream,
      [d, e].map((r) => r ?? { data: '', partitionKey: 'z' }),
    );
    const next = (await readShard(kinesis, stream, shardId)).slice(2);
    await shipLog(kinesisEvent(cluster, next), deps);
    const held = await advance();
    // Act 2: the on-failure record arrives
    await recordGap(
      {
        requestContext: { condition: 'RetryAttemptsExhausted' },
        KinesisBatchInfo: {
          shardId,
          startSequenceNumber: records[1]?.sequenceNumber,
          endSequenceNumber: records[1]?.sequenceNumber,
          approximateArrivalOfFirstRecord: new Date(records[1]?.arrivalMs ?? 0).toISOString(),
          approximateArrivalOfLastRecord: new Date(records[1]?.arrivalMs ?? 0).toISOString(),
          batchSize: 1,
          streamArn: streamArn(cluster),
        },
      },
      { catalog, logCatalog, now, config: { marginMicros: 100_000 } },
    );
    await new Promise((r) => setTimeout(r, 150));
    const released = await advance();
    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.sequenceNumber }]);
    expect((await logCatalog.getShardCheckpoint(cluster, shardId))?.lastSequenceNumber).toBe(
      next.at(-1)?.sequenceNumber,
    );
    expect(held?.computed?.limitedBy).toBe(`hold ${shardId}/${records[1]?.sequenceNumber}`);
    expect(held?.checkpoint).toBeLessThan((records[1]?.arrivalMs ?? 0) * 1000 - 100_000);
    expect(released?.computed?.limitedBy).toBe(`shard ${shardId}`);
    expect(released?.checkpoint).toBeGreaterThanOrEqual(Math.max(...load.changes.map((c) => c.ts)));
    expect(await logCatalog.listGaps(cluster)).toHaveLength(1);
  });
});
