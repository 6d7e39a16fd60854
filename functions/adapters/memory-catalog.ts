import {
  alreadyTransitioned,
  type BackupTransition,
  staleTransitionError,
  transitionSources,
} from '../core/backup-transitions';
import type { BackupCompletion, BackupRecord, ClusterRecord } from '../core/catalog-model';
import { BackupAlreadyRunningError, ClusterNotFoundError, StaleStateError } from '../core/errors';
import type { Catalog } from './catalog';

/** In-memory catalog with the same contract as `DynamoCatalog`, for unit tests. */
export class MemoryCatalog implements Catalog {
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly backups = new Map<string, BackupRecord>();

  async putCluster(cluster: ClusterRecord): Promise<void> {
    const existing = this.clusters.get(cluster.clusterName);
    this.clusters.set(
      cluster.clusterName,
      structuredClone({ ...cluster, runningBackupId: existing?.runningBackupId }),
    );
  }

  async getCluster(clusterName: string): Promise<ClusterRecord | undefined> {
    return structuredClone(this.clusters.get(clusterName));
  }

  async listClusters(): Promise<ClusterRecord[]> {
    return [...this.clusters.values()]
      .map((c) => structuredClone(c))
      .sort((a, b) => a.clusterName.localeCompare(b.clusterName));
  }

  async lockCluster(clusterName: string, backupId: string): Promise<void> {
    const cluster = this.clusters.get(clusterName);
    if (!cluster) throw new ClusterNotFoundError(clusterName);
    if (cluster.runningBackupId && cluster.runningBackupId !== backupId) {
      throw new BackupAlreadyRunningError(clusterName, cluster.runningBackupId);
    }
    cluster.runningBackupId = backupId;
  }

  async unlockCluster(clusterName: string, backupId: string): Promise<void> {
    const cluster = this.clusters.get(clusterName);
    if (cluster?.runningBackupId === backupId) cluster.runningBackupId = undefined;
  }

  async beginBackup(backup: BackupRecord): Promise<BackupRecord> {
    const key = `${backup.clusterName}/${backup.backupId}`;
    const existing = this.backups.get(key);
    if (existing && existing.status !== 'RUNNING')
      throw new StaleStateError(`backup ${backup.backupId}`, 'RUNNING');
    const merged: BackupRecord = { ...backup, ...stripUndefined(existing ?? {}), status: 'RUNNING' };
    this.backups.set(key, structuredClone(merged));
    return structuredClone(merged);
  }

  async getBackup(clusterName: string, backupId: string): Promise<BackupRecord | undefined> {
    return structuredClone(this.backups.get(`${clusterName}/${backupId}`));
  }

  async listBackups(clusterName: string): Promise<BackupRecord[]> {
    return [...this.backups.values()]
      .filter((b) => b.clusterName === clusterName)
      .map((b) => structuredClone(b))
      .sort((a, b) => b.requestedAt - a.requestedAt);
  }

  async completeBackup(
    clusterName: string,
    backupId: string,
    completion: BackupCompletion,
  ): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'COMPLETED', fields: completion });
  }

  async failBackup(
    clusterName: string,
    backupId: string,
    failure: { error: string; cause: string },
  ): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'FAILED', fields: { failure } });
  }

  async markBackupDeleted(clusterName: string, backupId: string, deletedAt: number): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'DELETED', fields: { deletedAt } });
  }

  async markBackupPurged(clusterName: string, backupId: string, purgedAt: number): Promise<void> {
    const current = this.backups.get(`${clusterName}/${backupId}`);
    if (current?.status === 'DELETED' && current.purgedAt === undefined) current.purgedAt = purgedAt;
  }

  private transition(clusterName: string, backupId: string, transition: BackupTransition): BackupRecord {
    const key = `${clusterName}/${backupId}`;
    const current = this.backups.get(key);
    if (!current || !transitionSources(transition.to).includes(current.status)) {
      if (current && alreadyTransitioned(current, transition)) return structuredClone(current);
      throw staleTransitionError(backupId, transition.to);
    }
    const next = { ...current, ...structuredClone(transition.fields), status: transition.to };
    this.backups.set(key, next);
    return structuredClone(next);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
