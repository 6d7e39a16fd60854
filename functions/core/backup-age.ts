import type { BackupRecord } from './catalog-model';
import type { Micros } from './time';

/**
 * How long a cluster has gone without a new snapshot: seconds since the newest COMPLETED backup
 * ended or, before its first one, since the cluster was registered (so a freshly deployed cluster
 * is not "overdue"). The "backup missing" alarm compares it with the schedule's longest gap.
 */
export function backupAgeSeconds(
  backups: Pick<BackupRecord, 'status' | 'endTs'>[],
  clusterRegisteredAt: Micros,
  now: Micros,
): number {
  let newest = clusterRegisteredAt;
  for (const backup of backups)
    if (backup.status === 'COMPLETED' && backup.endTs !== undefined) newest = Math.max(newest, backup.endTs);
  return Math.max(0, (now - newest) / 1e6);
}
