import { pendingPhases, RESTORE_SCHEMA_VERSION, type RestoreJob } from '../../functions/core/restore-model';
import type { Micros } from '../../functions/core/time';

/** A RUNNING restore job of `cluster` reading `backupId` and the log of [logFrom, logTo]. */
export function runningRestore(
  cluster: string,
  restoreId: string,
  backupId: string,
  log: { from: Micros; to: Micros } = { from: 0, to: 5 },
): RestoreJob {
  return {
    schemaVersion: RESTORE_SCHEMA_VERSION,
    clusterName: cluster,
    restoreId,
    request: { to: 'latest', targetPrefix: 'r-' },
    restorePoint: log.to,
    plan: {
      backupId,
      manifestKey: 'm',
      snapshotPrefix: 'p/',
      startTs: log.from,
      endTs: log.from,
      logFrom: log.from,
      logTo: log.to,
      tables: [{ source: 'orders', target: 'r-orders' }],
    },
    status: 'RUNNING',
    attempt: 1,
    requestedAt: 1,
    phases: pendingPhases(),
    createdTables: [],
    loadUnits: {},
    replayUnits: {},
  };
}
