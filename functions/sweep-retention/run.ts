import type { Catalog } from '../adapters/catalog';
import type { LogCatalog } from '../adapters/log-catalog';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import type { BackupRecord } from '../core/catalog-model';
import { ClusterNotFoundError, InvalidInputError } from '../core/errors';
import { parseEvent } from '../core/events';
import {
  type LogObjectSummary,
  planRetention,
  type RestoreHold,
  type RetentionDecision,
} from '../core/retention';
import { formatIsoMicros, type Micros, parseIsoMicros } from '../core/time';
import { run as deleteBackup } from '../delete-backup/run';
import { type SweepRetentionResult, sweepRetentionEvent } from './schema';

export interface SweepRetentionDeps {
  catalog: Catalog;
  /** Running restores hold their backup and log range (docs/design.md §3.10). */
  restoreCatalog: Pick<RestoreCatalog, 'listRestores'>;
  logCatalog: LogCatalog;
  store: ObjectStore;
  now: () => Micros;
  config: {
    /** finalize-snapshot's skew margin: a snapshot's log starts at its startTs minus it. */
    marginMicros: number;
    /** FAILED backups younger than this keep their objects. */
    failedGraceMicros: number;
  };
}

const BATCH = 1000;
const LEFTOVERS = 'deleted earlier: objects left over under its prefix';
/**
 * A DELETED backup's prefix found empty this long after the delete is marked purged and not
 * listed again: longer than any scan-segment invocation (Lambda's 15-minute limit) that could
 * still write a chunk for a failed snapshot.
 */
export const STRAGGLER_WINDOW_MICROS = 3_600_000_000;

/**
 * The retention sweep (docs/design.md §3.7, issue 5): plan with core/retention.ts as of `now`; with
 * `confirm`, execute the plan — backups through delete-backup (marked DELETED conditionally,
 * then their objects), then log objects in batches of 1,000: S3 DeleteObjects first, then their
 * index entries (LogCatalog.deleteLogObjects).
 *
 * The plan comes from the catalog alone: the log-object index, not a listing of the bucket's
 * `logs/` prefix (millions of objects on AWS). Idempotent and convergent: an index entry goes
 * only after its object, so a run that crashes between the two leaves entries whose objects are
 * gone; the next run plans them again, its DeleteObjects of the missing keys succeeds (S3
 * deletes are idempotent) and the entries go. A DELETED backup with objects left under its
 * prefix (a crash between the mark and the delete, or a straggling segment worker) is planned
 * for deletion again; once its prefix is found empty an hour after the delete it is marked
 * purged and no longer listed, so the sweep's S3 listing does not grow with history. So a re-run
 * finishes what a crashed run began and a second run deletes nothing. Restores never miss a
 * deleted object: they read only entries inside the kept window (restore-plan-replay,
 * restore-replay), and those objects are kept.
 */
export async function run(event: unknown, deps: SweepRetentionDeps): Promise<SweepRetentionResult> {
  const request = parseEvent(sweepRetentionEvent, event, 'sweep-retention event');
  const clock = deps.now();
  const now = request.now !== undefined ? parseIsoMicros(request.now, 'now') : clock;
  // Planning as of a future instant would delete backups still inside retention (and move the
  // earliest restorable instant forward): only the clock, plus the skew margin, bounds it.
  if (now > clock + deps.config.marginMicros)
    throw new InvalidInputError(
      'now',
      `an instant no later than ${formatIsoMicros(clock + deps.config.marginMicros)} (the current time plus the skew margin): a sweep as of a future instant would delete backups still inside retention, got ${request.now}`,
    );
  const cluster = await deps.catalog.getCluster(request.cluster);
  if (!cluster) throw new ClusterNotFoundError(request.cluster);

  const backups = await deps.catalog.listBackups(request.cluster);
  const [checkpoint, logObjects] = await Promise.all([
    deps.logCatalog.getClusterCheckpoint(request.cluster),
    indexedLogObjects(deps, request.cluster, cluster.tables, backups),
  ]);
  const plan = planRetention({
    now,
    retentionDays: cluster.retentionDays,
    backups,
    logObjects,
    checkpoint: checkpoint?.checkpoint,
    marginMicros: deps.config.marginMicros,
    failedGraceMicros: deps.config.failedGraceMicros,
    holds: await restoreHolds(deps.restoreCatalog, request.cluster),
  });
  const { leftovers, empty } = await deletedPrefixes(deps.store, backups);
  const toDelete: RetentionDecision[] = [
    ...plan.delete,
    ...leftovers.map((b) => ({ type: 'backup' as const, backupId: b.backupId, reason: LEFTOVERS })),
  ];

  const deleted = { backups: [] as string[], logObjects: [] as string[] };
  if (request.confirm) {
    for (const decision of toDelete) {
      if (decision.type !== 'backup') continue;
      await deleteBackup(
        { cluster: request.cluster, backupId: decision.backupId },
        { catalog: deps.catalog, restoreCatalog: deps.restoreCatalog, store: deps.store, now: deps.now },
      );
      deleted.backups.push(decision.backupId);
    }
    const keys = toDelete.flatMap((d) => (d.type === 'log' ? [d.key] : []));
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      await deps.store.delete(batch);
      await deps.logCatalog.deleteLogObjects(request.cluster, batch);
      deleted.logObjects.push(...batch);
    }
    // Real time, not the planning instant: stragglers write in real time.
    const at = deps.now();
    for (const backup of empty)
      if (at - (backup.deletedAt ?? at) >= STRAGGLER_WINDOW_MICROS)
        await deps.catalog.markBackupPurged(request.cluster, backup.backupId, at);
  }

  const reasons: Record<string, string> = {};
  for (const d of [...plan.keep, ...toDelete]) reasons[d.type === 'backup' ? d.backupId : d.key] = d.reason;
  return {
    cluster: request.cluster,
    now: formatIsoMicros(now),
    windowStart: formatIsoMicros(plan.windowStart),
    keep: plan.keep,
    delete: toDelete,
    reasons,
    deleted,
  };
}

/** The indexed log objects of the cluster's tables and its backups' tables (no S3 listing). */
async function indexedLogObjects(
  deps: SweepRetentionDeps,
  cluster: string,
  clusterTables: string[],
  backups: BackupRecord[],
): Promise<LogObjectSummary[]> {
  const tables = new Set([...clusterTables, ...backups.flatMap((b) => b.tables.map((t) => t.name))]);
  const summaries: LogObjectSummary[] = [];
  for (const table of [...tables].sort()) {
    for (const o of await deps.logCatalog.listLogObjects(cluster, table, 0, Number.MAX_SAFE_INTEGER)) {
      summaries.push({ key: o.key, table: o.table, minTs: o.minTs, maxTs: o.maxTs });
    }
  }
  return summaries;
}

/** DELETED backups not yet purged: those with objects left under their prefix, and the empty. */
async function deletedPrefixes(store: ObjectStore, backups: BackupRecord[]) {
  const leftovers: BackupRecord[] = [];
  const empty: BackupRecord[] = [];
  for (const backup of backups) {
    if (backup.status !== 'DELETED' || !backup.snapshotPrefix || backup.purgedAt !== undefined) continue;
    let found = false;
    for await (const _ of store.list(backup.snapshotPrefix)) {
      found = true;
      break;
    }
    (found ? leftovers : empty).push(backup);
  }
  return { leftovers, empty };
}

/** What the cluster's running restores read: their backup and their log range. */
async function restoreHolds(
  restoreCatalog: Pick<RestoreCatalog, 'listRestores'>,
  cluster: string,
): Promise<RestoreHold[]> {
  return (await restoreCatalog.listRestores(cluster))
    .filter((job) => job.status === 'RUNNING')
    .map((job) => ({
      restoreId: job.restoreId,
      backupId: job.plan.backupId,
      logFrom: job.plan.logFrom,
      logTo: job.plan.logTo,
    }));
}
