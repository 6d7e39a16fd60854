import { describe, expect, it } from 'vitest';
import type { RestoreCatalog } from '../../functions/adapters/restore-catalog';
import { StaleStateError } from '../../functions/core/errors';
import { pendingPhases, RESTORE_SCHEMA_VERSION, type RestoreJob } from '../../functions/core/restore-model';

/**
 * The restore catalog contract (functions/adapters/restore-catalog.ts), run against the
 * in-memory fake (unit) and DynamoDB Local (integration).
 */
export function restoreCatalogContract(
  label: string,
  make: () => Promise<RestoreCatalog> | RestoreCatalog,
): void {
  let seq = 0;
  const unique = (base: string) => `${base}-${process.pid}-${Date.now()}-${seq++}`;
  const job = (clusterName: string, restoreId: string, requestedAt = 1_000): RestoreJob => ({
    schemaVersion: RESTORE_SCHEMA_VERSION,
    clusterName,
    restoreId,
    request: { to: 'latest', targetPrefix: 'r-' },
    restorePoint: 5_000,
    plan: {
      backupId: 'b1',
      manifestKey: 'v1/c/snapshots/x/manifest.json',
      snapshotPrefix: 'v1/c/snapshots/x/',
      startTs: 1_000,
      endTs: 2_000,
      logFrom: 0,
      logTo: 5_000,
      tables: [{ source: 'orders', target: 'r-orders' }],
    },
    status: 'RUNNING',
    attempt: 1,
    requestedAt,
    phases: pendingPhases(),
    createdTables: [],
    loadUnits: {},
    replayUnits: {},
  });
  const result = { tables: [{ source: 'orders', target: 'r-orders', items: 3 }], items: 3 };

  describe(`restore catalog contract: ${label}`, () => {
    it('creates a job once, reads it back, lists newest first; unknown is undefined', async () => {
      // Prepare
      const catalog = await make();
      const cluster = unique('cl');
      // Act
      await catalog.createRestore(job(cluster, 'r1', 1_000));
      await catalog.createRestore(job(cluster, 'r2', 2_000));
      // Assess
      expect(await catalog.getRestore(cluster, 'r1')).toEqual(job(cluster, 'r1', 1_000));
      expect((await catalog.listRestores(cluster)).map((j) => j.restoreId)).toEqual(['r2', 'r1']);
      expect(await catalog.getRestore(cluster, 'nope')).toBeUndefined();
      await expect(catalog.createRestore(job(cluster, 'r1'))).rejects.toBeInstanceOf(StaleStateError);
    });

    it('records phases, created tables and per-unit progress; a repeated unit overwrites, never adds', async () => {
      // Prepare
      const catalog = await make();
      const cluster = unique('cl');
      await catalog.createRestore(job(cluster, 'r1'));
      // Act
      await catalog.startPhase(cluster, 'r1', 'load', 3, 10);
      await catalog.startPhase(cluster, 'r1', 'load', 3, 20);
      await catalog.recordCreatedTable(cluster, 'r1', 'r-orders');
      await catalog.recordCreatedTable(cluster, 'r1', 'r-orders');
      await catalog.recordLoadUnit(cluster, 'r1', 'orders#0', { chunks: 1, items: 5, done: false });
      await catalog.recordLoadUnit(cluster, 'r1', 'orders#0', { chunks: 2, items: 9, done: true });
      await catalog.recordReplayUnit(cluster, 'r1', 'orders#p0of2', {
        objects: 1,
        scanned: 4,
        kept: 2,
        duplicates: 0,
        puts: 1,
        deletes: 1,
        done: true,
      });
      await catalog.finishPhase(cluster, 'r1', 'load', 30);
      await catalog.setExecution(cluster, 'r1', 'arn:exec');
      // Assess
      const stored = await catalog.getRestore(cluster, 'r1');
      expect(stored?.phases.load).toEqual({ status: 'DONE', total: 3, startedAt: 10, finishedAt: 30 });
      expect(stored?.createdTables).toEqual(['r-orders']);
      expect(stored?.loadUnits).toEqual({ 'orders#0': { chunks: 2, items: 9, done: true } });
      expect(stored?.replayUnits['orders#p0of2']?.kept).toBe(2);
      expect(stored?.executionArn).toBe('arn:exec');
    });

    it('RUNNING → COMPLETED once (a retry returns it); progress and failure are refused afterwards', async () => {
      // Prepare
      const catalog = await make();
      const cluster = unique('cl');
      await catalog.createRestore(job(cluster, 'r1'));
      // Act
      const done = await catalog.completeRestore(cluster, 'r1', result, 99);
      const again = await catalog.completeRestore(cluster, 'r1', result, 100);
      // Assess
      expect(done).toMatchObject({ status: 'COMPLETED', result, finishedAt: 99 });
      expect(again.finishedAt).toBe(99);
      await expect(catalog.failRestore(cluster, 'r1', { error: 'E', cause: 'c' }, 1)).rejects.toBeInstanceOf(
        StaleStateError,
      );
      await expect(
        catalog.recordLoadUnit(cluster, 'r1', 'orders#0', { chunks: 1, items: 1, done: true }),
      ).rejects.toBeInstanceOf(StaleStateError);
      await expect(catalog.resumeRestore(cluster, 'r1', 2)).rejects.toBeInstanceOf(StaleStateError);
    });

    it('RUNNING → FAILED (idempotent) → RUNNING as the next attempt only, clearing the failure', async () => {
      // Prepare
      const catalog = await make();
      const cluster = unique('cl');
      await catalog.createRestore(job(cluster, 'r1'));
      // Act
      await catalog.failRestore(cluster, 'r1', { error: 'Boom', cause: 'disk' }, 50);
      const failedTwice = await catalog.failRestore(cluster, 'r1', { error: 'Other', cause: 'x' }, 60);
      // Assess
      expect(failedTwice).toMatchObject({ status: 'FAILED', failure: { error: 'Boom', cause: 'disk' } });
      await expect(catalog.completeRestore(cluster, 'r1', result, 1)).rejects.toBeInstanceOf(StaleStateError);
      await expect(catalog.resumeRestore(cluster, 'r1', 3)).rejects.toBeInstanceOf(StaleStateError);
      const resumed = await catalog.resumeRestore(cluster, 'r1', 2);
      expect(resumed).toMatchObject({ status: 'RUNNING', attempt: 2 });
      expect(resumed.failure).toBeUndefined();
      expect(resumed.finishedAt).toBeUndefined();
      expect((await catalog.resumeRestore(cluster, 'r1', 2)).attempt).toBe(2);
    });

    it('reserves a target for one job; another gets the holder back unless it replaces that holder', async () => {
      // Prepare
      const catalog = await make();
      const table = unique('tbl');
      const a = { clusterName: 'c1', restoreId: 'ra' };
      const b = { clusterName: 'c2', restoreId: 'rb' };
      // Act / Assess
      expect(await catalog.reserveTarget(table, a)).toBeUndefined();
      expect(await catalog.reserveTarget(table, a)).toBeUndefined();
      expect(await catalog.reserveTarget(table, b)).toEqual(a);
      expect(await catalog.reserveTarget(table, b, { clusterName: 'c9', restoreId: 'other' })).toEqual(a);
      expect(await catalog.reserveTarget(table, b, a)).toBeUndefined();
      expect(await catalog.reserveTarget(table, a)).toEqual(b);
    });
  });
}
