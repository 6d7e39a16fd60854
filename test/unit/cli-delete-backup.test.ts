import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { MemoryRestoreCatalog } from '../../functions/adapters/memory-restore-catalog';
import type { ObjectStore } from '../../functions/adapters/object-store';
import type { BackupRecord } from '../../functions/core/catalog-model';
import { BackupNotFoundError, InvalidInputError } from '../../functions/core/errors';
import {
  BackupInUseError,
  BackupStillRunningError,
  run,
  UnsafePrefixError,
} from '../../functions/delete-backup/run';
import { runningRestore } from '../support/restore-jobs';

/** Objects in a Map; `failListing` makes list throw (a crash after the catalog write). */
class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  failListing = false;
  async put(key: string, body: string | Uint8Array) {
    this.objects.set(key, Buffer.from(body));
  }
  async upload(_key: string, _body: Readable): Promise<void> {
    throw new Error('not used');
  }
  async get(key: string) {
    const body = this.objects.get(key);
    if (!body) throw new Error(`no ${key}`);
    return body;
  }
  async getStream(): Promise<Readable> {
    throw new Error('not used');
  }
  async exists(key: string) {
    return this.objects.has(key);
  }
  async *list(prefix: string) {
    if (this.failListing) throw new Error('connection reset');
    for (const key of [...this.objects.keys()].sort())
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)?.length ?? 0 };
  }
  async delete(keys: string[]) {
    for (const key of keys) this.objects.delete(key);
    return keys.length;
  }
}

const cluster = 'shop';
const backupId = '20261127T041500-3f9a2c';
const prefix = `v1/${cluster}/snapshots/20261127T041500.123456Z-${backupId}/`;
const otherPrefix = `v1/${cluster}/snapshots/20261128T041500.000000Z-20261128T041500-aaaaaa/`;
const now = () => 1_795_800_000_000_000;

async function fixture(status: BackupRecord['status'] = 'RUNNING', snapshotPrefix = prefix) {
  const catalog = new MemoryCatalog();
  const store = new MemoryStore();
  await catalog.beginBackup({
    schemaVersion: 1,
    clusterName: cluster,
    backupId,
    kind: 'manual',
    status: 'RUNNING',
    requestedAt: 1,
    startTs: 2,
    snapshotPrefix,
    tables: [],
    items: 0,
    rawBytes: 0,
    storedBytes: 0,
  });
  if (status === 'COMPLETED')
    await catalog.completeBackup(cluster, backupId, {
      endTs: 3,
      restorableFrom: 4,
      manifestKey: `${prefix}manifest.json`,
      tables: [],
      items: 0,
      rawBytes: 0,
      storedBytes: 0,
    });
  if (status === 'FAILED') await catalog.failBackup(cluster, backupId, { error: 'E', cause: 'c' });
  for (const key of ['manifest.json', 'orders/000000-000000.json.gz', '_parts/orders/000000-000000.json'])
    await store.put(`${prefix}${key}`, '{}');
  await store.put(`${otherPrefix}manifest.json`, '{}');
  const restoreCatalog = new MemoryRestoreCatalog();
  return { catalog, store, restoreCatalog, deps: { catalog, restoreCatalog, store, now } };
}

describe('delete-backup', () => {
  it('marks a completed backup DELETED and removes only its own objects', async () => {
    // Prepare
    const { catalog, store, deps } = await fixture('COMPLETED');
    // Act
    const result = await run({ cluster, backupId }, deps);
    // Assess
    expect(result).toEqual({ cluster, backupId, status: 'DELETED', deletedAt: now(), deletedObjects: 3 });
    expect((await catalog.getBackup(cluster, backupId))?.status).toBe('DELETED');
    expect([...store.objects.keys()]).toEqual([`${otherPrefix}manifest.json`]);
  });

  it('deletes a FAILED backup too', async () => {
    // Prepare
    const { catalog, deps } = await fixture('FAILED');
    // Act
    await run({ cluster, backupId }, deps);
    // Assess
    expect((await catalog.getBackup(cluster, backupId))?.status).toBe('DELETED');
  });

  it('refuses a RUNNING backup and leaves it and its objects alone', async () => {
    // Prepare
    const { catalog, store, deps } = await fixture('RUNNING');
    // Act
    const attempt = run({ cluster, backupId }, deps);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BackupStillRunningError);
    await expect(attempt).rejects.toThrow(/still RUNNING/);
    expect((await catalog.getBackup(cluster, backupId))?.status).toBe('RUNNING');
    expect(store.objects.size).toBe(4);
  });

  it('marks DELETED before touching objects, so a crash leaves orphans that a re-run removes', async () => {
    // Prepare
    const { catalog, store, deps } = await fixture('COMPLETED');
    store.failListing = true;
    // Act
    await expect(run({ cluster, backupId }, deps)).rejects.toThrow('connection reset');
    const afterCrash = await catalog.getBackup(cluster, backupId);
    store.failListing = false;
    const rerun = await run({ cluster, backupId }, deps);
    // Assess
    expect(afterCrash?.status).toBe('DELETED');
    expect(rerun.deletedObjects).toBe(3);
    expect(store.objects.size).toBe(1);
  });

  it('is idempotent: a second delete succeeds with nothing left to remove', async () => {
    // Prepare
    const { deps } = await fixture('COMPLETED');
    const first = await run({ cluster, backupId }, deps);
    // Act
    const second = await run({ cluster, backupId }, { ...deps, now: () => now() + 5 });
    // Assess
    expect(second).toEqual({ ...first, deletedObjects: 0 });
  });

  it('refuses to delete under a prefix that is not the backup own folder', async () => {
    // Prepare
    const { store, deps } = await fixture('COMPLETED', `v1/${cluster}/`);
    // Act
    const attempt = run({ cluster, backupId }, deps);
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(UnsafePrefixError);
    expect(store.objects.size).toBe(4);
  });

  it('names the missing backup, and the malformed field', async () => {
    // Prepare
    const { deps } = await fixture('COMPLETED');
    // Act / Assess
    await expect(run({ cluster, backupId: 'nope' }, deps)).rejects.toBeInstanceOf(BackupNotFoundError);
    await expect(run({ cluster }, deps)).rejects.toThrow(InvalidInputError);
    await expect(run({ cluster, backupId: '' }, deps)).rejects.toThrow(/backupId/);
  });

  it('refuses a backup a RUNNING restore reads, naming the restore; deletes it once the restore ended', async () => {
    // Prepare
    const { catalog, store, restoreCatalog, deps } = await fixture('COMPLETED');
    await restoreCatalog.createRestore(runningRestore(cluster, 'r-1', backupId));
    // Act
    const refused = await run({ cluster, backupId }, deps).catch((error: Error) => error);
    const whileRunning = (await catalog.getBackup(cluster, backupId))?.status;
    await restoreCatalog.failRestore(cluster, 'r-1', { error: 'E', cause: 'c' }, 9);
    const deleted = await run({ cluster, backupId }, deps);
    // Assess
    expect(refused).toBeInstanceOf(BackupInUseError);
    expect((refused as Error).message).toContain('in use by restore r-1');
    expect(whileRunning).toBe('COMPLETED');
    expect(deleted.status).toBe('DELETED');
    expect(store.objects.size).toBe(1);
  });
});
