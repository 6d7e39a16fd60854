import type { BackupCompletion, BackupRecord, ClusterRecord } from '../core/catalog-model';

/**
 * The catalog: clusters and backups (docs/design.md §5). Every state change is conditional, so a
 * retried Lambda can neither complete a backup twice nor resurrect a deleted one.
 *
 * Implementations: `DynamoCatalog` (DynamoDB, one table `pk`/`sk`) and `MemoryCatalog` (tests);
 * both pass the same contract suite (test/integration/catalog-contract.test.ts).
 */
export interface Catalog {
  /** Create or replace a cluster's configuration; keeps an existing lock. */
  putCluster(cluster: ClusterRecord): Promise<void>;
  /** `undefined` when the cluster is not registered. */
  getCluster(clusterName: string): Promise<ClusterRecord | undefined>;
  listClusters(): Promise<ClusterRecord[]>;

  /**
   * Take the cluster's one-snapshot-at-a-time lock for `backupId`. Throws
   * `BackupAlreadyRunningError` naming the holder when another backup holds it; taking a lock
   * already held by `backupId` succeeds (idempotent).
   */
  lockCluster(clusterName: string, backupId: string): Promise<void>;
  /** Release the lock if `backupId` holds it; otherwise do nothing. */
  unlockCluster(clusterName: string, backupId: string): Promise<void>;

  /**
   * Register a RUNNING backup, or, if it already exists and is RUNNING, fill in fields it does
   * not have yet (a retry keeps the first `startTs`). Returns the stored record.
   * Throws `StaleStateError` if the backup exists in another state.
   */
  beginBackup(backup: BackupRecord): Promise<BackupRecord>;
  /** `undefined` when there is no such backup. */
  getBackup(clusterName: string, backupId: string): Promise<BackupRecord | undefined>;
  /** Every backup of the cluster, newest `requestedAt` first (DELETED ones included). */
  listBackups(clusterName: string): Promise<BackupRecord[]>;

  /** RUNNING → COMPLETED. Idempotent for the same manifest; `StaleStateError` otherwise. */
  completeBackup(clusterName: string, backupId: string, completion: BackupCompletion): Promise<BackupRecord>;
  /** RUNNING → FAILED with its cause. Idempotent when already FAILED; `StaleStateError` otherwise. */
  failBackup(
    clusterName: string,
    backupId: string,
    failure: { error: string; cause: string },
  ): Promise<BackupRecord>;
  /** COMPLETED or FAILED → DELETED. Idempotent when already DELETED; `StaleStateError` if RUNNING. */
  markBackupDeleted(clusterName: string, backupId: string, deletedAt: number): Promise<BackupRecord>;
  /**
   * Record that a DELETED backup's objects are all gone (`purgedAt`, first value kept). Does
   * nothing unless the backup is DELETED.
   */
  markBackupPurged(clusterName: string, backupId: string, purgedAt: number): Promise<void>;
}
