import { describe, expect, it } from 'vitest';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { MemoryLogCatalog } from '../../functions/adapters/memory-log-catalog';
import { ClusterNotFoundError, InvalidInputError } from '../../functions/core/errors';
import { parseIsoMicros } from '../../functions/core/time';
import { gapFromFailure, run as recordGap } from '../../functions/record-gap/run';
import { run as shipLog } from '../../functions/ship-log/run';
import { registerCluster } from '../support/clusters';
import {
  type Change,
  json,
  kdsRecord,
  kinesisEvent,
  MemoryObjectStore,
  parseLogObject,
  type StreamRecord,
  streamArn,
} from '../support/log-fixtures';

const SHARD = 'shardId-000000000000';
const T0 = parseIsoMicros('2026-11-27T04:15:00.000000Z');
const ARRIVAL0 = T0 / 1000 + 200; // ms: each change reaches Kinesis 200 ms after it happened
const change = (i: number, table = 'orders'): Change => ({
  table,
  op: i % 5 === 4 ? 'REMOVE' : 'MODIFY',
  keys: { pk: { S: `k${i % 3}` } },
  newImage: { pk: { S: `k${i % 3}` }, v: { N: String(i) } },
  ts: T0 + i * 1_000,
});
const good = (i: number, table?: string): StreamRecord => ({
  shardId: SHARD,
  sequenceNumber: String(1000 + i),
  arrivalMs: ARRIVAL0 + i,
  data: json(kdsRecord(change(i, table))),
});
const bad = (i: number, data: string): StreamRecord => ({ ...good(i), data });

function setup() {
  const store = new MemoryObjectStore();
  const logCatalog = new MemoryLogCatalog();
  let clock = T0 + 60_000_000;
  return { store, logCatalog, deps: { store, logCatalog, now: () => clock++ } };
}

describe('ship-log', () => {
  it('writes each table’s changes to one gzip NDJSON object, indexes it and advances the shard', async () => {
    // Prepare
    const { store, logCatalog, deps } = setup();
    const records = [0, 1, 2, 3, 4, 5].map((i) => good(i, i % 2 ? 'users' : 'orders'));
    // Act
    const result = await shipLog(kinesisEvent('shop', records), deps);
    // Assess
    expect(result).toMatchObject({
      batchItemFailures: [],
      cluster: 'shop',
      records: 6,
      shipped: 6,
      decodeFailures: 0,
    });
    expect(result.objects.map((o) => o.key)).toEqual([
      `v1/shop/logs/orders/20261127T04/${SHARD}-1000.json.gz`,
      `v1/shop/logs/users/20261127T04/${SHARD}-1001.json.gz`,
    ]);
    const lines = parseLogObject(await store.get(result.objects[0]?.key ?? ''));
    expect(lines.map((l) => [l.sequenceNumber, l.op, l.ts])).toEqual([
      ['1000', 'MODIFY', T0],
      ['1002', 'MODIFY', T0 + 2_000],
      ['1004', 'REMOVE', T0 + 4_000],
    ]);
    const [indexed] = await logCatalog.listLogObjects('shop', 'orders', T0, T0 + 4_000);
    expect(indexed).toMatchObject({ records: 3, minTs: T0, maxTs: T0 + 4_000, firstSequenceNumber: '1000' });
    expect(await logCatalog.getShardCheckpoint('shop', SHARD)).toMatchObject({
      streamName: 'rewind-log-shop',
      shippedTs: (ARRIVAL0 + 5) * 1000 - 1,
      lastSequenceNumber: '1005',
    });
    expect(result.maxPropagationMicros).toBe(200_000);
  });

  it('reports malformed records as batch item failures, ships the rest, and holds the checkpoint below the first', async () => {
    // Prepare: a record that is not JSON and one of the wrong shape among good ones
    const { store, logCatalog, deps } = setup();
    const records = [
      good(0),
      good(1),
      bad(2, '{"nope'),
      good(3),
      bad(4, json({ eventName: 'INSERT' })),
      good(5),
    ];
    // Act
    const result = await shipLog(kinesisEvent('shop', records), deps);
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1002' }, { itemIdentifier: '1004' }]);
    expect(result).toMatchObject({ shipped: 4, decodeFailures: 2 });
    const shipped = parseLogObject(await store.get(result.objects[0]?.key ?? '')).map(
      (r) => r.sequenceNumber,
    );
    expect(shipped).toEqual(['1000', '1001', '1003', '1005']);
    expect(await logCatalog.getShardCheckpoint('shop', SHARD)).toMatchObject({
      shippedTs: (ARRIVAL0 + 2) * 1000 - 1,
      lastSequenceNumber: '1001',
    });
    expect(await logCatalog.listHolds('shop')).toMatchObject([
      { sequenceNumber: '1002', ts: (ARRIVAL0 + 2) * 1000 - 1 },
    ]);
  });

  it('never crashes on a batch where every record is malformed', async () => {
    // Prepare
    const { deps } = setup();
    // Act
    const result = await shipLog(kinesisEvent('shop', [bad(0, 'x'), bad(1, 'y')]), deps);
    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['1000', '1001']);
    expect(result.objects).toEqual([]);
  });

  it('rewrites the same objects with the same bytes on a retry, never shrinks one, never moves the checkpoint back', async () => {
    // Prepare
    const { store, logCatalog, deps } = setup();
    const batch = kinesisEvent(
      'shop',
      [0, 1, 2, 3].map((i) => good(i)),
    );
    const first = await shipLog(batch, deps);
    const bytes = new Map(store.objects);
    // Act
    const retried = await shipLog(batch, deps);
    const older = await shipLog(kinesisEvent('shop', [good(0), good(1)]), deps);
    // Assess
    expect(retried.objects).toEqual(first.objects);
    expect(new Map([...store.objects].filter(([k]) => bytes.has(k)))).toEqual(bytes);
    expect(retried.shards[0]?.advanced).toBe(false);
    expect(older.shards[0]?.advanced).toBe(false);
    expect((await logCatalog.getShardCheckpoint('shop', SHARD))?.shippedTs).toBe((ARRIVAL0 + 3) * 1000 - 1);
  });

  it('a batch that fails after writing its object holds its first record; the retry converges', async () => {
    // Prepare: the catalog fails once, after the object and its index entry are written
    const { store, logCatalog, deps } = setup();
    const batch = kinesisEvent(
      'shop',
      [0, 1, 2].map((i) => good(i)),
    );
    const advanceShard = logCatalog.advanceShard.bind(logCatalog);
    let failures = 1;
    logCatalog.advanceShard = async (a) => {
      if (failures-- > 0) throw new Error('throttled');
      return advanceShard(a);
    };
    // Act
    await expect(shipLog(batch, deps)).rejects.toThrow('throttled');
    const held = await logCatalog.listHolds('shop');
    const written = new Map(store.objects);
    const retried = await shipLog(batch, deps);
    // Assess
    expect(held).toMatchObject([{ sequenceNumber: '1000', reason: 'batch failed: throttled' }]);
    expect(new Map(store.objects)).toEqual(written);
    expect(retried.shards[0]?.advanced).toBe(true);
    expect(await logCatalog.listHolds('shop')).toEqual([]);
  });

  it('refuses an event that is not a Kinesis event of a Rewind stream, naming the field', async () => {
    // Prepare
    const { deps } = setup();
    const foreign = kinesisEvent('shop', [good(0)]);
    if (foreign.Records[0]) foreign.Records[0].eventSourceARN = 'arn:aws:kinesis:us-east-1:1:stream/other';
    // Act / Assess
    await expect(shipLog({ Records: [{ kinesis: {} }] }, deps)).rejects.toThrow(InvalidInputError);
    await expect(shipLog({ Records: [{ kinesis: {} }] }, deps)).rejects.toThrow(/Records\.0\.kinesis\.data/);
    await expect(shipLog(foreign, deps)).rejects.toThrow(/eventSourceARN/);
    expect(await shipLog({ Records: [] }, deps)).toMatchObject({ batchItemFailures: [], records: 0 });
  });
});

describe('record-gap', () => {
  const failure = (start: string, end: string) => ({
    requestContext: {
      requestId: 'r1',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ship-log',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-11-27T04:16:00.000Z',
    KinesisBatchInfo: {
      shardId: SHARD,
      startSequenceNumber: start,
      endSequenceNumber: end,
      approximateArrivalOfFirstRecord: '2026-11-27T04:15:00.202Z',
      approximateArrivalOfLastRecord: '2026-11-27T04:15:00.205Z',
      batchSize: 4,
      streamArn: streamArn('shop'),
    },
  });

  it('bounds the dropped changes by arrival − margin and the end of the last arrival millisecond', () => {
    // Act
    const gap = gapFromFailure(failure('1002', '1005'), 1_000_000, 7);
    // Assess
    expect(gap).toMatchObject({
      gapId: `${SHARD}:1002-1005`,
      cluster: 'shop',
      fromTs: parseIsoMicros('2026-11-27T04:14:59.202000Z'),
      toTs: parseIsoMicros('2026-11-27T04:15:00.205999Z'),
      records: 4,
      reason: 'RetryAttemptsExhausted (function error: Unhandled)',
    });
    expect(gap.table).toBeUndefined(); // unknown records: every table of the cluster
  });

  it('records the gap once, from the raw record or an SQS message, and releases the holds it covers', async () => {
    // Prepare: ship-log left a hold on 1002 (malformed) and an unrelated older one on 900
    const { logCatalog, deps } = setup();
    await shipLog(kinesisEvent('shop', [good(0), good(1), bad(2, 'garbage'), good(3)]), deps);
    await logCatalog.putHold({
      schemaVersion: 1,
      cluster: 'shop',
      shardId: SHARD,
      sequenceNumber: '900',
      ts: 1,
      reason: 'r',
      heldAt: 1,
    });
    const catalog = new MemoryCatalog();
    await registerCluster(catalog, 'shop', ['orders']);
    const gapDeps = { catalog, logCatalog, now: deps.now, config: { marginMicros: 1_000_000 } };
    const ghost = {
      ...failure('1002', '1003'),
      KinesisBatchInfo: { ...failure('1002', '1003').KinesisBatchInfo, streamArn: streamArn('ghost') },
    };
    const sqs = {
      Records: [{ messageId: 'm1', body: json(failure('1002', '1003')), eventSource: 'aws:sqs' }],
    };
    // Act
    const refused = await recordGap(ghost, gapDeps).catch((error: Error) => error);
    const first = await recordGap(failure('1002', '1003'), gapDeps);
    const again = await recordGap(sqs, gapDeps);
    const broken = await recordGap(
      { Records: [{ messageId: 'm2', body: '{}', eventSource: 'aws:sqs' }] },
      gapDeps,
    );
    // Assess
    expect(refused).toBeInstanceOf(ClusterNotFoundError);
    expect(await logCatalog.listGaps('ghost')).toEqual([]);
    expect(first.gaps.map((g) => [g.recorded, g.holdsReleased, g.shardAdvanced])).toEqual([[true, 1, true]]);
    expect(await logCatalog.getShardCheckpoint('shop', SHARD)).toMatchObject({
      shippedTs: parseIsoMicros('2026-11-27T04:15:00.204999Z'),
      lastSequenceNumber: '1003',
    });
    expect(again.gaps.map((g) => [g.recorded, g.holdsReleased])).toEqual([[false, 0]]);
    expect(again.batchItemFailures).toEqual([]);
    expect(broken.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(await logCatalog.listGaps('shop')).toHaveLength(1);
    expect((await logCatalog.listHolds('shop')).map((h) => h.sequenceNumber)).toEqual(['900']);
  });
});
