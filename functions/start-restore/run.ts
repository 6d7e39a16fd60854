import { randomBytes } from 'node:crypto';
import type { Catalog } from '../adapters/catalog';
import type { LogCatalog } from '../adapters/log-catalog';
import type { RestoreCatalog, RestoreOwner } from '../adapters/restore-catalog';
import type { RestoreExecutions } from '../adapters/restore-job';
import type { TargetTables } from '../adapters/restore-tables';
import { ClusterNotFoundError } from '../core/errors';
import { parseEvent } from '../core/events';
import {
  TargetIsSourceError,
  TargetSchemaMismatchError,
  TargetTableInUseError,
  TargetTableNotEmptyError,
} from '../core/restore-errors';
import { pendingPhases, RESTORE_SCHEMA_VERSION, type RestoreJob } from '../core/restore-model';
import { parseRestoreTarget, planRestore } from '../core/restore-plan';
import { targetTableName } from '../core/restore-work';
import { formatIsoMicros, formatKeyTime, type Micros, parseIsoMicros } from '../core/time';
import { type StartedRestore, startRestoreEvent } from './schema';

export interface StartRestoreDeps {
  catalog: Catalog;
  logCatalog: LogCatalog;
  restoreCatalog: RestoreCatalog;
  tables: TargetTables;
  executions: RestoreExecutions;
  now: () => Micros;
  config: { skewMarginMicros: number };
  newRestoreId?: (now: Micros) => string;
}

/** `r20261127T041500-3f9a2c`: sorts by request time, unique, a valid execution name. */
export const defaultRestoreId = (now: Micros) =>
  `r${formatKeyTime(now).slice(0, 15)}-${randomBytes(3).toString('hex')}`;

/**
 * Start a point-in-time restore into new tables: plan it (the planner's refusals name the
 * checkpoint, the restorable window or the gap), refuse targets that are a protected table or
 * an existing non-empty table (docs/design.md §3.8), reserve the target names, register the job
 * RUNNING and start the restore state machine (execution name = restore id).
 */
export async function run(event: unknown, deps: StartRestoreDeps): Promise<StartedRestore> {
  const request = parseEvent(startRestoreEvent, event, 'start-restore event');
  const cluster = await deps.catalog.getCluster(request.cluster);
  if (!cluster) throw new ClusterNotFoundError(request.cluster);
  const target = parseRestoreTarget(request.to, (text) => parseIsoMicros(text, 'to'));

  const [backups, checkpoint, gaps] = await Promise.all([
    deps.catalog.listBackups(cluster.clusterName),
    deps.logCatalog.getClusterCheckpoint(cluster.clusterName),
    deps.logCatalog.listGaps(cluster.clusterName),
  ]);
  const plan = planRestore({
    clusterName: cluster.clusterName,
    clusterTables: cluster.tables,
    tables: request.tables,
    target,
    backups,
    checkpoint: checkpoint?.checkpoint,
    gaps: gaps.map((g) => ({ gapId: g.gapId, table: g.table, fromTs: g.fromTs, toTs: g.toTs })),
    marginMicros: deps.config.skewMarginMicros,
  });
  const tables = plan.tables.map((source) => ({
    source,
    target: targetTableName(request.targetPrefix, source),
  }));
  await refuseUnsafeTargets(
    deps,
    tables.map((t) => t.target),
  );

  const now = deps.now();
  const restoreId = (deps.newRestoreId ?? defaultRestoreId)(now);
  const owner = { clusterName: cluster.clusterName, restoreId };
  for (const { target: table } of tables) await reserve(deps.restoreCatalog, table, owner);

  const job: RestoreJob = {
    schemaVersion: RESTORE_SCHEMA_VERSION,
    clusterName: cluster.clusterName,
    restoreId,
    request: { to: request.to, targetPrefix: request.targetPrefix, tables: request.tables },
    restorePoint: plan.restorePoint,
    plan: {
      backupId: plan.snapshot.backupId,
      manifestKey: plan.snapshot.manifestKey,
      snapshotPrefix: plan.snapshot.snapshotPrefix,
      startTs: plan.snapshot.startTs,
      endTs: plan.snapshot.endTs,
      logFrom: plan.logFrom,
      logTo: plan.logTo,
      tables,
    },
    status: 'RUNNING',
    attempt: 1,
    requestedAt: now,
    phases: pendingPhases(),
    createdTables: [],
    loadUnits: {},
    replayUnits: {},
  };
  await deps.restoreCatalog.createRestore(job);
  const executionArn = await startExecution(deps, job, restoreId);
  return startedView(job, executionArn);
}

/** Never a protected table (of any cluster), never an existing non-empty one. */
async function refuseUnsafeTargets(deps: StartRestoreDeps, targets: string[]): Promise<void> {
  const clusters = await deps.catalog.listClusters();
  for (const table of targets) {
    const owner = clusters.find((c) => c.tables.includes(table));
    if (owner) throw new TargetIsSourceError(table, owner.clusterName);
  }
  for (const table of targets) {
    const info = await deps.tables.describe(table);
    if (!info) continue;
    if (!(await deps.tables.isEmpty(table))) throw new TargetTableNotEmptyError(table);
    // An empty table of the same name is only usable if its keys match; checked against the
    // manifest's schema when the tables are created.
    if (info.status !== 'ACTIVE')
      throw new TargetSchemaMismatchError(table, `it is ${info.status}, expected ACTIVE or absent`);
  }
}

/** Reserve a target name; a holder whose job is not RUNNING any more gives way. */
async function reserve(catalog: RestoreCatalog, table: string, owner: RestoreOwner): Promise<void> {
  const holder = await catalog.reserveTarget(table, owner);
  if (!holder) return;
  const holderJob = await catalog.getRestore(holder.clusterName, holder.restoreId);
  if (holderJob?.status === 'RUNNING') throw new TargetTableInUseError(table, holder.restoreId);
  const again = await catalog.reserveTarget(table, owner, holder);
  if (again) throw new TargetTableInUseError(table, again.restoreId);
}

/** Start the execution; if it cannot start, the job is FAILED with the reason (nothing ran). */
export async function startExecution(
  deps: Pick<StartRestoreDeps, 'executions' | 'restoreCatalog' | 'now'>,
  job: RestoreJob,
  name: string,
): Promise<string> {
  try {
    const executionArn = await deps.executions.start(name, {
      cluster: job.clusterName,
      restoreId: job.restoreId,
    });
    await deps.restoreCatalog.setExecution(job.clusterName, job.restoreId, executionArn);
    return executionArn;
  } catch (error) {
    await deps.restoreCatalog.failRestore(
      job.clusterName,
      job.restoreId,
      { error: 'StartExecutionFailed', cause: String(error) },
      deps.now(),
    );
    throw error;
  }
}

export function startedView(job: RestoreJob, executionArn: string): StartedRestore {
  return {
    restoreId: job.restoreId,
    cluster: job.clusterName,
    status: job.status,
    restorePoint: formatIsoMicros(job.restorePoint),
    backupId: job.plan.backupId,
    attempt: job.attempt,
    executionArn,
    tables: job.plan.tables.map((t) => ({ ...t })),
  };
}
