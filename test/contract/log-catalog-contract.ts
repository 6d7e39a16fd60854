import { describe, expect, it } from 'vitest';
import type { LogCatalog } from '../../functions/adapters/log-catalog';
import { logKey } from '../../functions/core/keys';
import {
  type ClusterCheckpoint,
  type GapRecord,
  gapId,
  LOG_SCHEMA_VERSION,
  type LogObjectRecord,
} from '../../functions/core/log-model';
import { parseIsoMicros } from '../../functions/core/time';

/**
 * The log-catalog contract (functions/adapters/log-catalog.ts), run against every
 * implementation: the in-memory fake (unit) and DynamoDB Local (integration).
 */
export function logCatalogContract(label: string, makeCatalog: () => Promise<LogCatalog> | LogCatalog): void {
  let seq = 0;
  const unique = (base: string) => `${base}-${process.pid}-${Date.now()}-${seq++}`;
  const T = (iso: string) => parseIsoMicros(iso);
  const advance = (cluster: string, shardId: string, shippedTs: number, extra = {}) => ({
    cluster,
    streamName: `rewind-log-${cluster}`,
    shardId,
    shippedTs,
    updatedAt: shippedTs,
    ...extra,
  });
  const logObject = (
    cluster: string,
    table: string,
    minIso: string,
    maxIso: string,
    firstSeq: string,
  ): LogObjectRecord => ({
    schemaVersion: LOG_SCHEMA_VERSION,
    cluster,
    key: logKey(cluster, table, T(minIso), 'shardId-000000000000', firstSeq),
    table,
    shardId: 'shardId-000000000000',
    firstSequenceNumber: firstSeq,
    lastSequenceNumber: `${firstSeq}9`,
    minTs: T(minIso),
    maxTs: T(maxIso),
    records: 3,
    rawBytes: 300,
    bytes: 100,
    sha256: 'a'.repeat(64),
    writtenAt: T(maxIso),
  });
  const gap = (cluster: string, start: string, end: string, fromTs: number): GapRecord => ({
    schemaVersion: LOG_SCHEMA_VERSION,
    gapId: gapId('shardId-000000000001', start, end),
    cluster,
    shardId: 'shardId-000000000001',
    startSequenceNumber: start,
    endSequenceNumber: end,
    fromTs,
    toTs: fromTs + 5_000,
    records: 2,
    reason: 'RetryAttemptsExhausted',
    recordedAt: fromTs + 9_000,
  });

  describe(`log catalog contract: ${label}`, () => {
    it('creates a shard checkpoint, moves it only forward, and equal is a no-op', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('fwd');
      // Act
      const created = await catalog.advanceShard(advance(cluster, 's1', 2_000, { lastSequenceNumber: '20' }));
      const backwards = await catalog.advanceShard(
        advance(cluster, 's1', 1_000, { lastSequenceNumber: '10' }),
      );
      const equal = await catalog.advanceShard(advance(cluster, 's1', 2_000, { lastSequenceNumber: '20' }));
      const equalEarlier = await catalog.advanceShard(
        advance(cluster, 's1', 2_000, { lastSequenceNumber: '9' }),
      );
      const equalNoSeq = await catalog.advanceShard(advance(cluster, 's1', 2_000));
      const sameMillisecond = await catalog.advanceShard(
        advance(cluster, 's1', 2_000, { lastSequenceNumber: '100' }),
      );
      const forward = await catalog.advanceShard(advance(cluster, 's1', 3_000));
      // Assess
      expect([created, backwards, equal, equalEarlier, equalNoSeq, sameMillisecond, forward]).toEqual([
        true,
        false,
        false,
        false,
        false,
        true,
        true,
      ]);
      expect(await catalog.getShardCheckpoint(cluster, 's1')).toMatchObject({
        schemaVersion: LOG_SCHEMA_VERSION,
        cluster,
        shardId: 's1',
        shippedTs: 3_000,
        lastSequenceNumber: '100', // kept: the last move did not carry one
        closed: false,
      });
      expect(await catalog.getShardCheckpoint(cluster, 'nope')).toBeUndefined();
    });

    it('compare-and-sets on lastSequenceNumber so an observation never overwrites a newer move', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('cas');
      // Act
      const fresh = await catalog.advanceShard(advance(cluster, 's1', 1_000, { ifLastSequenceNumber: null }));
      await catalog.advanceShard(advance(cluster, 's1', 2_000, { lastSequenceNumber: '50' }));
      const stale = await catalog.advanceShard(advance(cluster, 's1', 9_000, { ifLastSequenceNumber: null }));
      const wrong = await catalog.advanceShard(advance(cluster, 's1', 9_000, { ifLastSequenceNumber: '49' }));
      const right = await catalog.advanceShard(advance(cluster, 's1', 9_000, { ifLastSequenceNumber: '50' }));
      // Assess
      expect([fresh, stale, wrong, right]).toEqual([true, false, false, true]);
      expect((await catalog.getShardCheckpoint(cluster, 's1'))?.shippedTs).toBe(9_000);
    });

    it('marks shards closed idempotently and lists checkpoints in shard order', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('close');
      await catalog.advanceShard(advance(cluster, 's2', 5_000, { parentShardIds: ['s0'] }));
      const closure = {
        cluster,
        streamName: `rewind-log-${cluster}`,
        parentShardIds: ['s0'],
        endingSequenceNumber: '99',
        closedAt: 7_000,
      };
      // Act
      await catalog.markShardClosed({ ...closure, shardId: 's2' });
      await catalog.markShardClosed({ ...closure, shardId: 's2', closedAt: 8_000 });
      await catalog.markShardClosed({ ...closure, shardId: 's1' });
      // Assess
      const listed = await catalog.listShardCheckpoints(cluster);
      expect(listed.map((c) => [c.shardId, c.closed])).toEqual([
        ['s1', true],
        ['s2', true],
      ]);
      expect(listed[1]).toMatchObject({ shippedTs: 5_000, endingSequenceNumber: '99', closedAt: 7_000 });
      expect(listed[1]?.parentShardIds).toEqual(['s0']);
    });

    it('records a gap once, lists gaps by time, and keeps holds per shard and record', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('gap');
      const hold = { schemaVersion: LOG_SCHEMA_VERSION, cluster, reason: 'r', heldAt: 1 };
      // Act
      const first = await catalog.recordGap(gap(cluster, '100', '200', 50_000));
      const again = await catalog.recordGap({ ...gap(cluster, '100', '200', 50_000), reason: 'other' });
      await catalog.recordGap(gap(cluster, '300', '400', 10_000));
      await catalog.putHold({ ...hold, shardId: 's1', sequenceNumber: '1000', ts: 9 });
      await catalog.putHold({ ...hold, shardId: 's1', sequenceNumber: '999', ts: 8 });
      await catalog.putHold({ ...hold, shardId: 's1', sequenceNumber: '999', ts: 8 });
      await catalog.putHold({ ...hold, shardId: 's0', sequenceNumber: '5', ts: 7 });
      await catalog.removeHold(cluster, 's0', '5');
      await catalog.removeHold(cluster, 's0', '404');
      // Assess
      expect([first, again]).toEqual([true, false]);
      const gaps = await catalog.listGaps(cluster);
      expect(gaps.map((g) => g.startSequenceNumber)).toEqual(['300', '100']);
      expect(gaps[1]?.reason).toBe('RetryAttemptsExhausted');
      expect((await catalog.listHolds(cluster)).map((h) => h.sequenceNumber)).toEqual(['999', '1000']);
    });

    it('lists exactly the log objects of a table overlapping a time window', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('idx');
      const objects = [
        logObject(cluster, 'orders', '2026-11-27T04:10:00.000000Z', '2026-11-27T04:20:00.000000Z', '1'),
        logObject(cluster, 'orders', '2026-11-27T04:50:00.000000Z', '2026-11-27T04:59:59.999999Z', '2'),
        logObject(cluster, 'orders', '2026-11-27T05:00:00.000000Z', '2026-11-27T05:30:00.000000Z', '3'),
        logObject(cluster, 'orders', '2026-11-27T07:00:00.000000Z', '2026-11-27T07:10:00.000000Z', '4'),
        logObject(cluster, 'orders-v2', '2026-11-27T05:00:00.000000Z', '2026-11-27T05:10:00.000000Z', '5'),
      ];
      for (const o of objects) await catalog.putLogObject(o);
      await catalog.putLogObject({ ...objects[0], records: 4 } as LogObjectRecord); // rewrite: same entry
      // Act
      const window = await catalog.listLogObjects(
        cluster,
        'orders',
        T('2026-11-27T04:20:00.000000Z'),
        T('2026-11-27T05:00:00.000000Z'),
      );
      const inside = await catalog.listLogObjects(
        cluster,
        'orders',
        T('2026-11-27T04:30:00.000000Z'),
        T('2026-11-27T04:40:00.000000Z'),
      );
      const all = await catalog.listLogObjects(cluster, 'orders', 0, T('2030-01-01T00:00:00Z'));
      // Assess
      expect(window.map((o) => o.firstSequenceNumber)).toEqual(['1', '2', '3']);
      expect(window[0]?.records).toBe(4);
      expect(inside).toEqual([]);
      expect(all.map((o) => o.firstSequenceNumber)).toEqual(['1', '2', '3', '4']);
      expect(all.every((o) => o.schemaVersion === LOG_SCHEMA_VERSION)).toBe(true);
      expect(await catalog.getLogObject(cluster, objects[2]?.key ?? '')).toEqual(objects[2]);
      expect(
        await catalog.getLogObject(cluster, `v1/${cluster}/logs/orders/20261127T04/x-1.json.gz`),
      ).toBeUndefined();
    });

    it('deletes log-object entries: gone from get and list, the others stay, repeats and missing keys are fine', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('del');
      const other = unique('del-other');
      const objects = [
        logObject(cluster, 'orders', '2026-11-27T04:10:00.000000Z', '2026-11-27T04:20:00.000000Z', '1'),
        logObject(cluster, 'orders', '2026-11-27T05:00:00.000000Z', '2026-11-27T05:30:00.000000Z', '2'),
        logObject(cluster, 'orders', '2026-11-27T06:00:00.000000Z', '2026-11-27T06:30:00.000000Z', '3'),
        logObject(cluster, 'users', '2026-11-27T04:10:00.000000Z', '2026-11-27T04:20:00.000000Z', '4'),
      ];
      for (const o of objects) await catalog.putLogObject(o);
      const sameKeyElsewhere = { ...(objects[0] as LogObjectRecord), cluster: other };
      await catalog.putLogObject(sameKeyElsewhere);
      const [first, second, third, users] = objects.map((o) => o.key) as [string, string, string, string];
      const neverIndexed = logKey(cluster, 'orders', T('2026-11-27T04:30:00Z'), 'shardId-000000000000', '77');
      const all = (table: string) => catalog.listLogObjects(cluster, table, 0, T('2030-01-01T00:00:00Z'));
      // Act
      await catalog.deleteLogObjects(cluster, [first, users, first]);
      const afterFirst = { orders: await all('orders'), users: await all('users') };
      await catalog.deleteLogObjects(cluster, [first, users, neverIndexed]);
      await catalog.deleteLogObjects(cluster, []);
      // Assess
      expect(afterFirst.orders.map((o) => o.key)).toEqual([second, third]);
      expect(afterFirst.users).toEqual([]);
      expect(await catalog.getLogObject(cluster, first)).toBeUndefined();
      expect(await catalog.getLogObject(cluster, users)).toBeUndefined();
      expect(await catalog.getLogObject(cluster, neverIndexed)).toBeUndefined();
      expect(await catalog.getLogObject(cluster, second)).toEqual(objects[1]);
      expect((await all('orders')).map((o) => o.key)).toEqual([second, third]);
      expect(
        await catalog.listLogObjects(cluster, 'orders', T('2026-11-27T04:00:00Z'), T('2026-11-27T05:10:00Z')),
      ).toEqual([objects[1]]);
      expect(await catalog.getLogObject(other, first)).toEqual(sameKeyElsewhere);
    });

    it('deletes more entries than one batch (25) holds', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('del-many');
      const objects = Array.from({ length: 60 }, (_, i) =>
        logObject(
          cluster,
          'orders',
          `2026-11-27T04:${String(i).padStart(2, '0')}:00.000000Z`,
          `2026-11-27T04:${String(i).padStart(2, '0')}:30.000000Z`,
          String(1000 + i),
        ),
      );
      for (const o of objects) await catalog.putLogObject(o);
      const doomed = objects.slice(0, 53).map((o) => o.key);
      // Act
      await catalog.deleteLogObjects(cluster, doomed);
      // Assess
      const left = await catalog.listLogObjects(cluster, 'orders', 0, T('2030-01-01T00:00:00Z'));
      expect(left.map((o) => o.key)).toEqual(objects.slice(53).map((o) => o.key));
      expect(await catalog.getLogObject(cluster, doomed[52] ?? '')).toBeUndefined();
    });

    it('stores the cluster checkpoint only forward', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const cluster = unique('ccp');
      const cp = (checkpoint: number): ClusterCheckpoint => ({
        schemaVersion: LOG_SCHEMA_VERSION,
        cluster,
        checkpoint,
        computedAt: checkpoint + 10,
        marginMicros: 1_000_000,
        limitedBy: 'shard s1',
        activeShards: 2,
      });
      // Act
      const results = [
        await catalog.advanceClusterCheckpoint(cp(5_000)),
        await catalog.advanceClusterCheckpoint(cp(4_000)),
        await catalog.advanceClusterCheckpoint(cp(5_000)),
        await catalog.advanceClusterCheckpoint(cp(6_000)),
      ];
      // Assess
      expect(results).toEqual([true, false, false, true]);
      expect(await catalog.getClusterCheckpoint(cluster)).toEqual(cp(6_000));
      expect(await catalog.getClusterCheckpoint(unique('none'))).toBeUndefined();
    });
  });
}
