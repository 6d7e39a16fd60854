import { nowMicros } from '../../functions/adapters/clock';
import type { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import type { DynamoRestoreCatalog } from '../../functions/adapters/dynamo-restore-catalog';
import type { DynamoTargetTables } from '../../functions/adapters/restore-tables';
import type { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import type { BackupRecord } from '../../functions/core/catalog-model';
import { pendingPhases, RESTORE_SCHEMA_VERSION } from '../../functions/core/restore-model';
import type { Micros } from '../../functions/core/time';
import type { dynamoClient } from '../../local/clients';
import type { LocalCloud } from '../../local/cloud';

/** What the restore benchmark's load and replay parts share: the source, its snapshot, the adapters. */

export const CLUSTER = 'bench';
export const SOURCE = 'bench-orders';

export interface RestoreBenchContext {
  cloud: LocalCloud;
  ddb: ReturnType<typeof dynamoClient>;
  store: S3ObjectStore;
  restores: DynamoRestoreCatalog;
  logCatalog: DynamoLogCatalog;
  tables: DynamoTargetTables;
  /** The COMPLETED snapshot of SOURCE every restore starts from. */
  backup: BackupRecord;
  /** Load units / replay partitions in parallel, and write requests in flight per unit. */
  map: number;
  writers: number;
}

/** A RUNNING job over the snapshot, restoring SOURCE into `target`, replaying [logFrom, logTo]. */
export async function createRunningJob(
  ctx: RestoreBenchContext,
  restoreId: string,
  target: string,
  logTo: Micros,
): Promise<void> {
  const b = ctx.backup;
  await ctx.restores.createRestore({
    schemaVersion: RESTORE_SCHEMA_VERSION,
    clusterName: CLUSTER,
    restoreId,
    request: { to: 'bench', targetPrefix: 'bench-' },
    restorePoint: logTo,
    plan: {
      backupId: b.backupId,
      manifestKey: b.manifestKey ?? '',
      snapshotPrefix: b.snapshotPrefix ?? '',
      startTs: b.startTs ?? 0,
      endTs: b.endTs ?? 0,
      logFrom: (b.startTs ?? 0) - 1_000_000,
      logTo,
      tables: [{ source: SOURCE, target }],
    },
    status: 'RUNNING',
    attempt: 1,
    requestedAt: nowMicros(),
    phases: pendingPhases(),
    createdTables: [],
    loadUnits: {},
    replayUnits: {},
  });
}
