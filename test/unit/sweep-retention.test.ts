import { describe, expect, it } from 'vitest';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { MemoryLogCatalog } from '../../functions/adapters/memory-log-catalog';
import { MemoryRestoreCatalog } from '../../functions/adapters/memory-restore-catalog';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { logKey, snapshotPrefix } from '../../functions/core/keys';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { run, type SweepRetentionDeps } from '../../functions/sweep-retention/run';
import { MemoryObjectStore, shipPlaceholderLogObject } from '../support/log-fixtures';
import { runningRestore } from '../support/restore-jobs';

const DAY = 86_400_000_000;
const HOUR = 3_600_000_000;
const NOW: Micros = 1_800_000_000_000_000;
const cluster = 'shop';
const table = 'orders';

/** A store whose delete throws from the `failAt`-th call on (a crash mid-sweep); records list prefixes. */
class CrashingStore extends MemoryObjectStore {
  calls = 0;
  failAt = Number.POSITIVE_INFINITY;
  readonly listed: string[] = [];
  override async delete(keys: string[]): Promise<number> {
    this.calls++;
    if (this.calls >= this.failAt) throw new Error('connection reset');
    return super.delete(keys);
  }
  override list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    this.listed.push(prefix);
    return super.list(prefix);
  }
}

/** A log catalog whose next `failDeletes` deleteLogObjects calls throw (a crash after the S3 delete). */
class CrashingLogCatalog extends MemoryLogCatalog {
  failDeletes = 0;
  deleteCalls = 0;
  override async deleteLogObjects(cluster: string, keys: string[]): Promise<void> {
    this.deleteCalls++;
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new Error('throttled');
    }
    return super.deleteLogObjects(cluster, keys);
  }
}

/** Auto backups 20, 10 and 1 days old (retention 7 days: the 20-day one goes), 2,500 old log objects. */
async function world() {
  const catalog = new MemoryCatalog();
  const logCatalog = new CrashingLogCatalog();
  const store = new CrashingStore();
  await catalog.putCluster({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: cluster,
    tables: [table],
    retentionDays: 7,
    createdAt: formatIsoMicros(NOW - 30 * DAY),
  });
  for (const [i, age] of [20, 10, 1].entries()) {
    const startTs = NOW - age * DAY;
    const backupId = `b${i}`;
    const prefix = snapshotPrefix(cluster, startTs, backupId);
    await catalog.beginBackup({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      backupId,
      kind: 'auto',
      status: 'RUNNING',
      requestedAt: startTs - 1,
      startTs,
      snapshotPrefix: prefix,
      tables: [],
      items: 0,
      rawBytes: 0,
      storedBytes: 0,
    });
    await catalog.completeBackup(cluster, backupId, {
      endTs: startTs + HOUR,
      restorableFrom: startTs + HOUR + 1_000_000,
      manifestKey: `${prefix}manifest.json`,
      tables: [],
      items: 0,
      rawBytes: 0,
      storedBytes: 0,
    });
    for (const key of ['manifest.json', `${table}/000000-000000.json.gz`])
      await store.put(`${prefix}${key}`, '{}');
  }
  // 2,500 log objects 25..15 days old (before the anchor, 10 days old) and 100 in the window.
  const ages = [
    ...Array.from({ length: 2500 }, (_, i) => 25 * DAY - i * 345_600_000),
    ...Array.from({ length: 100 }, (_, i) => 5 * DAY - i * HOUR),
  ];
  for (const [i, age] of ages.entries()) {
    const ts = NOW - age;
    const sequence = `1${String(i).padStart(20, '0')}`;
    await shipPlaceholderLogObject({ store, logCatalog }, { cluster, table, ts, sequence });
  }
  const restoreCatalog = new MemoryRestoreCatalog();
  const deps: SweepRetentionDeps = {
    catalog,
    restoreCatalog,
    logCatalog,
    store,
    now: () => NOW,
    config: { marginMicros: 1_000_000, failedGraceMicros: 2 * DAY },
  };
  return { catalog, logCatalog, restoreCatalog, store, deps };
}

/** Every indexed log key of the cluster's table. */
const indexed = async (logCatalog: MemoryLogCatalog) =>
  (await logCatalog.listLogObjects(cluster, table, 0, Number.MAX_SAFE_INTEGER)).map((o) => o.key);
const logKeys = (ds: { type: string; key?: string }[]) =>
  ds.flatMap((d) => (d.type === 'log' && d.key ? [d.key] : [])).sort();

const subjects = (ds: { type: string; backupId?: string; key?: string }[]) =>
  ds.map((d) => (d.type === 'backup' ? `backup:${d.backupId}` : `log:${d.key}`)).sort();

describe('sweep-retention run()', () => {
  it('deletes exactly what the dry run planned, and a second run deletes nothing', async () => {
    // Prepare
    const { catalog, store, deps } = await world();
    // Act
    const plan = await run({ cluster }, deps);
    const objectsAfterPlan = store.objects.size;
    const swept = await run({ cluster, confirm: true }, deps);
    const again = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(objectsAfterPlan).toBe(6 + 2600);
    expect(plan.deleted).toEqual({ backups: [], logObjects: [] });
    expect(subjects(plan.delete)).toHaveLength(2501);
    expect(subjects(plan.delete)).toEqual(
      subjects([
        ...swept.deleted.backups.map((backupId) => ({ type: 'backup', backupId })),
        ...swept.deleted.logObjects.map((key) => ({ type: 'log', key })),
      ]),
    );
    expect(swept.deleted.backups).toEqual(['b0']);
    expect((await catalog.getBackup(cluster, 'b0'))?.status).toBe('DELETED');
    expect((await catalog.getBackup(cluster, 'b1'))?.status).toBe('COMPLETED');
    expect(plan.reasons.b1).toBe('restores the start of the retention window');
    expect(store.objects.size).toBe(4 + 100);
    expect(again.delete).toEqual([]);
    expect(again.deleted).toEqual({ backups: [], logObjects: [] });
    expect(plan.now).toBe(formatIsoMicros(NOW));
  });

  it('a sweep crashed after the first log batch converges when run again', async () => {
    // Prepare: delete call 1 is the backup's objects, call 2 the first log batch, call 3 crashes.
    const { store, deps } = await world();
    const clean = await world();
    await run({ cluster, confirm: true }, clean.deps);
    store.failAt = 3;
    // Act
    const crashed = run({ cluster, confirm: true }, deps);
    await expect(crashed).rejects.toThrow('connection reset');
    const leftAfterCrash = store.objects.size;
    store.failAt = Number.POSITIVE_INFINITY;
    const rerun = await run({ cluster, confirm: true }, deps);
    const third = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(leftAfterCrash).toBe(4 + 100 + 1500);
    expect(rerun.deleted.logObjects).toHaveLength(1500);
    expect([...store.objects.keys()].sort()).toEqual([...clean.store.objects.keys()].sort());
    expect(third.deleted).toEqual({ backups: [], logObjects: [] });
  });

  it('re-deletes objects left under a backup marked DELETED by a crashed run', async () => {
    // Prepare: the mark succeeds, the object delete (call 1) crashes.
    const { catalog, store, deps } = await world();
    store.failAt = 1;
    await expect(run({ cluster, confirm: true }, deps)).rejects.toThrow('connection reset');
    expect((await catalog.getBackup(cluster, 'b0'))?.status).toBe('DELETED');
    store.failAt = Number.POSITIVE_INFINITY;
    // Act
    const plan = await run({ cluster }, deps);
    const rerun = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(plan.delete.filter((d) => d.type === 'backup')).toEqual([
      { type: 'backup', backupId: 'b0', reason: 'deleted earlier: objects left over under its prefix' },
    ]);
    expect(rerun.deleted.backups).toEqual(['b0']);
    expect(store.objects.size).toBe(4 + 100);
  });

  it('stops listing a DELETED backup once its prefix is empty an hour after the delete', async () => {
    // Prepare: b0 is deleted by a first sweep at NOW
    const { catalog, store, deps } = await world();
    let clock = NOW;
    const timed = { ...deps, now: () => clock };
    await run({ cluster, confirm: true }, timed);
    const prefixOf = async (id: string) => (await catalog.getBackup(cluster, id))?.snapshotPrefix ?? '';
    const b0Prefix = await prefixOf('b0');
    const listsOfB0 = () => store.listed.filter((p) => p === b0Prefix).length;
    // Act: a sweep 10 minutes later (a straggling worker could still write), then one 2 h later,
    // then a third
    clock = NOW + 10 * 60_000_000;
    await run({ cluster, confirm: true }, timed);
    const afterTenMinutes = await catalog.getBackup(cluster, 'b0');
    const listsBefore = listsOfB0();
    clock = NOW + 2 * HOUR;
    await run({ cluster, confirm: true }, timed);
    const listsAtPurge = listsOfB0();
    const third = await run({ cluster, confirm: true }, timed);
    // Assess
    expect(afterTenMinutes?.purgedAt).toBeUndefined();
    expect((await catalog.getBackup(cluster, 'b0'))?.purgedAt).toBe(NOW + 2 * HOUR);
    expect(listsAtPurge).toBe(listsBefore + 1);
    expect(listsOfB0()).toBe(listsAtPurge);
    expect(third.delete).toEqual([]);
  });

  it('a dry run marks nothing purged', async () => {
    // Prepare
    const { catalog, deps } = await world();
    await run({ cluster, confirm: true }, deps);
    // Act
    await run({ cluster }, { ...deps, now: () => NOW + 2 * HOUR });
    // Assess
    expect((await catalog.getBackup(cluster, 'b0'))?.purgedAt).toBeUndefined();
  });

  it('keeps a backup and the log a RUNNING restore reads, naming the restore, and sweeps them once it ended', async () => {
    // Prepare: a restore reads b0 (20 days old, outside retention) and its first day of log.
    const { catalog, restoreCatalog, deps } = await world();
    const held = { from: NOW - 20 * DAY - HOUR, to: NOW - 19 * DAY };
    await restoreCatalog.createRestore(runningRestore(cluster, 'r-old', 'b0', held));
    // Act
    const during = await run({ cluster, confirm: true }, deps);
    await restoreCatalog.failRestore(cluster, 'r-old', { error: 'E', cause: 'c' }, NOW);
    const after = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(during.reasons.b0).toBe('in use by restore r-old');
    expect(during.deleted.backups).toEqual([]);
    const heldLogs = during.keep.filter((d) => d.type === 'log' && d.reason === 'in use by restore r-old');
    expect(heldLogs.length).toBeGreaterThan(0);
    expect(
      during.deleted.logObjects.filter((key) => heldLogs.some((d) => d.type === 'log' && d.key === key)),
    ).toEqual([]);
    expect(after.deleted.backups).toEqual(['b0']);
    expect((await catalog.getBackup(cluster, 'b0'))?.status).toBe('DELETED');
  });

  it('plans as of the clock: 100 days on, only the newest snapshot stays', async () => {
    // Prepare: the function's clock has moved on (the event names no instant).
    const { deps } = await world();
    // Act
    const result = await run({ cluster }, { ...deps, now: () => NOW + 100 * DAY });
    // Assess
    expect(result.now).toBe(formatIsoMicros(NOW + 100 * DAY));
    expect(subjects(result.delete.filter((d) => d.type === 'backup'))).toEqual(['backup:b0', 'backup:b1']);
    expect(result.reasons.b2).toBe('newest completed snapshot');
  });

  it('plans as of an earlier event `now`, but refuses one past the clock plus the skew margin, deleting nothing', async () => {
    // Prepare
    const { deps } = await world();
    const margin = deps.config.marginMicros;
    // Act
    const earlier = await run({ cluster, now: formatIsoMicros(NOW - DAY) }, deps);
    const atEdge = await run({ cluster, now: formatIsoMicros(NOW + margin), confirm: false }, deps);
    const future = run({ cluster, now: formatIsoMicros(NOW + margin + 1), confirm: true }, deps);
    // Assess
    expect(earlier.now).toBe(formatIsoMicros(NOW - DAY));
    expect(atEdge.now).toBe(formatIsoMicros(NOW + margin));
    await expect(future).rejects.toThrow(/invalid now: expected an instant no later than/);
    expect((await run({ cluster }, deps)).delete).toEqual(atEdge.delete);
  });

  it('a confirmed sweep deletes both the object and the index entry of each planned log object, and keeps both of the others', async () => {
    // Prepare
    const { logCatalog, store, deps } = await world();
    const plan = await run({ cluster }, deps);
    const doomed = logKeys(plan.delete);
    const kept = logKeys(plan.keep);
    // Act
    const swept = await run({ cluster, confirm: true }, deps);
    // Assess
    expect([doomed.length, kept.length]).toEqual([2500, 100]);
    expect([...swept.deleted.logObjects].sort()).toEqual(doomed);
    expect(doomed.filter((key) => store.objects.has(key))).toEqual([]);
    for (const key of [doomed[0], doomed[1234], doomed[2499]])
      expect(await logCatalog.getLogObject(cluster, key ?? '')).toBeUndefined();
    expect((await indexed(logCatalog)).sort()).toEqual(kept);
    expect(kept.filter((key) => !store.objects.has(key))).toEqual([]);
  });

  it('a sweep crashed between the S3 delete and the index delete converges when run again', async () => {
    // Prepare: the first batch's objects go, then deleting their entries fails once.
    const { logCatalog, store, deps } = await world();
    const clean = await world();
    await run({ cluster, confirm: true }, clean.deps);
    logCatalog.failDeletes = 1;
    // Act
    await expect(run({ cluster, confirm: true }, deps)).rejects.toThrow('throttled');
    const afterCrash = await indexed(logCatalog);
    const orphans = afterCrash.filter((key) => !store.objects.has(key));
    const rerun = await run({ cluster, confirm: true }, deps);
    const third = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(afterCrash).toHaveLength(2600);
    expect(orphans).toHaveLength(1000);
    expect(rerun.deleted.logObjects).toHaveLength(2500);
    expect(rerun.deleted.logObjects).toEqual(expect.arrayContaining(orphans));
    expect(await indexed(logCatalog)).toEqual(await indexed(clean.logCatalog));
    expect([...store.objects.keys()].sort()).toEqual([...clean.store.objects.keys()].sort());
    expect((await indexed(logCatalog)).filter((key) => !store.objects.has(key))).toEqual([]);
    expect(third.delete).toEqual([]);
    expect(third.deleted).toEqual({ backups: [], logObjects: [] });
  });

  it('a dry run deletes neither log objects nor their index entries', async () => {
    // Prepare
    const { logCatalog, store, deps } = await world();
    const objectsBefore = [...store.objects.keys()].sort();
    const indexBefore = await indexed(logCatalog);
    // Act
    const plan = await run({ cluster }, deps);
    // Assess
    expect(logKeys(plan.delete)).toHaveLength(2500);
    expect(plan.deleted).toEqual({ backups: [], logObjects: [] });
    expect([...store.objects.keys()].sort()).toEqual(objectsBefore);
    expect(await indexed(logCatalog)).toEqual(indexBefore);
    expect([store.calls, logCatalog.deleteCalls]).toEqual([0, 0]);
  });

  it('plans log objects from the index alone, never listing the logs/ prefix', async () => {
    // Prepare: one indexed object already gone from S3, one stray object the index does not know.
    const { logCatalog, store, deps } = await world();
    const [gone] = await indexed(logCatalog);
    store.objects.delete(gone ?? '');
    const stray = logKey(cluster, table, NOW - 30 * DAY, 'shardId-000000000009', '5');
    await store.put(stray, 'x');
    // Act
    const plan = await run({ cluster }, deps);
    const swept = await run({ cluster, confirm: true }, deps);
    // Assess
    expect(logKeys(plan.delete)).toContain(gone);
    expect(swept.deleted.logObjects).toContain(gone);
    expect(await logCatalog.getLogObject(cluster, gone ?? '')).toBeUndefined();
    expect(logKeys([...plan.delete, ...plan.keep])).not.toContain(stray);
    expect(store.objects.has(stray)).toBe(true);
    expect(store.listed.length).toBeGreaterThan(0); // delete-backup lists b0's snapshot prefix
    expect(store.listed.filter((prefix) => !prefix.startsWith(`v1/${cluster}/snapshots/`))).toEqual([]);
  });
});
