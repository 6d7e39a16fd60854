import type { Catalog } from '../adapters/catalog';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { BackupNotFoundError, RewindError } from '../core/errors';
import { parseEvent } from '../core/events';
import { parseSnapshotKey } from '../core/keys';
import type { Micros } from '../core/time';
import { type DeleteBackupResult, deleteBackupEvent } from './schema';

export interface DeleteBackupDeps {
  catalog: Catalog;
  /** Running restores name the backup they read (docs/design.md §3.10: nothing in use is deleted). */
  restoreCatalog: Pick<RestoreCatalog, 'listRestores'>;
  store: ObjectStore;
  now: () => Micros;
}

/** A running restore reads this backup: deleting it would fail the restore half way. */
export class BackupInUseError extends RewindError {
  constructor(
    readonly clusterName: string,
    readonly backupId: string,
    readonly restoreId: string,
  ) {
    super(
      `backup "${backupId}" of cluster "${clusterName}" is in use by restore ${restoreId}, which is RUNNING: delete it once the restore has ended`,
    );
  }
}

/** The RUNNING restore of the cluster that reads `backupId`, if any. */
export async function restoreUsing(
  restoreCatalog: Pick<RestoreCatalog, 'listRestores'>,
  cluster: string,
  backupId: string,
): Promise<string | undefined> {
  const jobs = await restoreCatalog.listRestores(cluster);
  return jobs.find((job) => job.status === 'RUNNING' && job.plan.backupId === backupId)?.restoreId;
}

/** A RUNNING backup cannot be deleted: its workers are still writing under its prefix. */
export class BackupStillRunningError extends RewindError {
  constructor(
    readonly clusterName: string,
    readonly backupId: string,
  ) {
    super(
      `backup "${backupId}" of cluster "${clusterName}" is still RUNNING: wait until it completes or fails, then delete it`,
    );
  }
}

/** A catalog record whose snapshotPrefix is not this backup's own folder: refuse to delete anything. */
export class UnsafePrefixError extends RewindError {
  constructor(
    readonly backupId: string,
    readonly prefix: string,
  ) {
    super(`backup "${backupId}" records snapshot prefix "${prefix}", which is not its own folder`);
  }
}

/** Deleting twice more catches objects a straggling worker wrote while the first pass ran. */
const MAX_PASSES = 3;

/**
 * Delete a backup: mark it DELETED first (conditional: COMPLETED or FAILED → DELETED,
 * idempotent), then delete every object under its snapshot prefix. The order means a crash
 * leaves orphaned objects under a DELETED backup (a re-run deletes them), never a COMPLETED
 * backup with missing data.
 */
export async function run(event: unknown, deps: DeleteBackupDeps): Promise<DeleteBackupResult> {
  const request = parseEvent(deleteBackupEvent, event, 'delete-backup event');
  const backup = await deps.catalog.getBackup(request.cluster, request.backupId);
  if (!backup) throw new BackupNotFoundError(request.cluster, request.backupId);
  if (backup.status === 'RUNNING') throw new BackupStillRunningError(request.cluster, request.backupId);
  const reader =
    backup.status === 'DELETED'
      ? undefined
      : await restoreUsing(deps.restoreCatalog, request.cluster, request.backupId);
  if (reader) throw new BackupInUseError(request.cluster, request.backupId, reader);

  const deleted = await deps.catalog.markBackupDeleted(request.cluster, request.backupId, deps.now());
  const prefix = backup.snapshotPrefix;
  let deletedObjects = 0;
  if (prefix) {
    assertOwnPrefix(request.cluster, request.backupId, prefix);
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      // List the whole prefix before deleting: deleting while paging can skip keys on stores
      // whose continuation tokens are positions rather than keys.
      const keys: string[] = [];
      for await (const object of deps.store.list(prefix)) keys.push(object.key);
      if (keys.length === 0) break;
      deletedObjects += await deps.store.delete(keys);
    }
  }
  return {
    cluster: request.cluster,
    backupId: request.backupId,
    status: 'DELETED',
    deletedAt: deleted.deletedAt ?? deps.now(),
    deletedObjects,
  };
}

function assertOwnPrefix(cluster: string, backupId: string, prefix: string): void {
  let parsed: ReturnType<typeof parseSnapshotKey> | undefined;
  try {
    parsed = parseSnapshotKey(prefix);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.cluster !== cluster || parsed.backupId !== backupId || parsed.rest !== '')
    throw new UnsafePrefixError(backupId, prefix);
}
