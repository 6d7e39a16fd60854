import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../functions/adapters/catalog';
import {
  type BackupRecord,
  CATALOG_SCHEMA_VERSION,
  type ClusterRecord,
} from '../../functions/core/catalog-model';
import { BackupAlreadyRunningError, StaleStateError } from '../../functions/core/errors';

/**
 * The catalog contract (functions/adapters/catalog.ts), run against every implementation:
 * the in-memory fake (unit) and DynamoDB Local (integration).
 */
export function catalogContract(label: string, makeCatalog: () => Promise<Catalog> | Catalog): void {
  let seq = 0;
  const unique = (base: string) => `${base}-${process.pid}-${Date.now()}-${seq++}`;

  const cluster = (clusterName: string): ClusterRecord => ({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName,
    tables: ['a', 'b'],
    retentionDays: 7,
    createdAt: '2026-11-27T00:00:00.000000Z',
  });
  const backup = (
    clusterName: string,
    backupId: string,
    extra: Partial<BackupRecord> = {},
  ): BackupRecord => ({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName,
    backupId,
    kind: 'manual',
    status: 'RUNNING',
    requestedAt: 1_000,
    tables: [],
    items: 0,
    rawBytes: 0,
    storedBytes: 0,
    ...extra,
  });
  const completion = {
    endTs: 3_000,
    restorableFrom: 4_000,
    manifestKey: 'v1/c/snapshots/x/manifest.json',
    tables: [{ name: 'a', items: 2, rawBytes: 20, storedBytes: 10, chunks: 1 }],
    items: 2,
    rawBytes: 20,
    storedBytes: 10,
  };

  describe(`catalog contract: ${label}`, () => {
    it('stores, reads and lists clusters; unknown cluster is undefined', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('cl');
      // Act
      await catalog.putCluster(cluster(name));
      // Assess
      expect(await catalog.getCluster(name)).toMatchObject({ clusterName: name, tables: ['a', 'b'] });
      expect((await catalog.listClusters()).map((c) => c.clusterName)).toContain(name);
      expect(await catalog.getCluster(unique('missing'))).toBeUndefined();
    });

    it('lets one backup at a time hold the cluster lock, naming the holder', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('lock');
      await catalog.putCluster(cluster(name));
      // Act
      await catalog.lockCluster(name, 'b1');
      await catalog.lockCluster(name, 'b1'); // idempotent for the holder
      const second = catalog.lockCluster(name, 'b2');
      // Assess
      await expect(second).rejects.toThrow(BackupAlreadyRunningError);
      await expect(second).rejects.toThrow(/b1/);
      await catalog.unlockCluster(name, 'b2'); // not the holder: no effect
      await expect(catalog.lockCluster(name, 'b2')).rejects.toThrow(BackupAlreadyRunningError);
      await catalog.unlockCluster(name, 'b1');
      await catalog.lockCluster(name, 'b2');
      expect((await catalog.getCluster(name))?.runningBackupId).toBe('b2');
    });

    it('begins a backup once: a retry keeps the first startTs', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('begin');
      // Act
      await catalog.beginBackup(backup(name, 'b1'));
      const first = await catalog.beginBackup(backup(name, 'b1', { startTs: 2_000 }));
      const retried = await catalog.beginBackup(backup(name, 'b1', { startTs: 9_000 }));
      // Assess
      expect(first.startTs).toBe(2_000);
      expect(retried.startTs).toBe(2_000);
      expect(retried.status).toBe('RUNNING');
    });

    it('completes exactly once: a repeat is idempotent, a conflicting transition is refused', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('complete');
      await catalog.beginBackup(backup(name, 'b1', { startTs: 2_000 }));
      // Act
      const done = await catalog.completeBackup(name, 'b1', completion);
      const again = await catalog.completeBackup(name, 'b1', completion);
      // Assess
      expect(done).toMatchObject({ status: 'COMPLETED', endTs: 3_000, items: 2 });
      expect(again.status).toBe('COMPLETED');
      await expect(catalog.failBackup(name, 'b1', { error: 'X', cause: 'y' })).rejects.toThrow(
        StaleStateError,
      );
      await expect(catalog.beginBackup(backup(name, 'b1'))).rejects.toThrow(StaleStateError);
      expect((await catalog.getBackup(name, 'b1'))?.status).toBe('COMPLETED');
    });

    it('a FAILED backup never becomes COMPLETED, and DELETED is never resurrected', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('fail');
      await catalog.beginBackup(backup(name, 'b1'));
      // Act
      await catalog.failBackup(name, 'b1', { error: 'SegmentError', cause: 'boom' });
      // Assess
      await expect(catalog.completeBackup(name, 'b1', completion)).rejects.toThrow(StaleStateError);
      expect(await catalog.getBackup(name, 'b1')).toMatchObject({
        status: 'FAILED',
        failure: { error: 'SegmentError' },
      });
      await catalog.markBackupDeleted(name, 'b1', 5_000);
      await catalog.markBackupDeleted(name, 'b1', 6_000);
      await expect(catalog.beginBackup(backup(name, 'b1'))).rejects.toThrow(StaleStateError);
      await expect(catalog.completeBackup(name, 'b1', completion)).rejects.toThrow(StaleStateError);
      expect(await catalog.getBackup(name, 'b1')).toMatchObject({ status: 'DELETED', deletedAt: 5_000 });
    });

    it('records purgedAt only on a DELETED backup, keeping the first value', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('purge');
      await catalog.beginBackup(backup(name, 'running'));
      await catalog.beginBackup(backup(name, 'gone'));
      await catalog.failBackup(name, 'gone', { error: 'E', cause: 'c' });
      await catalog.markBackupDeleted(name, 'gone', 10);
      // Act
      await catalog.markBackupPurged(name, 'running', 20);
      await catalog.markBackupPurged(name, 'gone', 30);
      await catalog.markBackupPurged(name, 'gone', 40);
      await catalog.markBackupPurged(name, 'never-existed', 50);
      // Assess
      expect((await catalog.getBackup(name, 'running'))?.purgedAt).toBeUndefined();
      expect(await catalog.getBackup(name, 'gone')).toMatchObject({ status: 'DELETED', purgedAt: 30 });
      expect(await catalog.getBackup(name, 'never-existed')).toBeUndefined();
    });

    it('refuses to delete a RUNNING backup and lists backups newest first', async () => {
      // Prepare
      const catalog = await makeCatalog();
      const name = unique('list');
      await catalog.beginBackup(backup(name, 'old', { requestedAt: 1 }));
      await catalog.beginBackup(backup(name, 'new', { requestedAt: 2 }));
      // Act
      const deleting = catalog.markBackupDeleted(name, 'new', 3);
      // Assess
      await expect(deleting).rejects.toThrow(StaleStateError);
      expect((await catalog.listBackups(name)).map((b) => b.backupId)).toEqual(['new', 'old']);
      expect(await catalog.getBackup(name, 'nope')).toBeUndefined();
    });
  });
}
