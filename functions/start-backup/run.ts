import { createHash, randomBytes } from 'node:crypto';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Catalog } from '../adapters/catalog';
import { type BackupRecord, CATALOG_SCHEMA_VERSION, isProtected } from '../core/catalog-model';
import {
  BackupAlreadyRunningError,
  ClusterNotFoundError,
  ClusterRemovedError,
  InvalidInputError,
} from '../core/errors';
import { parseEvent } from '../core/events';
import { formatIsoMicros, formatKeyTime, type Micros, parseIsoMicros } from '../core/time';
import { startBackupEvent } from './schema';

export interface StartBackupDeps {
  catalog: Catalog;
  sfn: SFNClient;
  stateMachineArn: string;
  now: () => Micros;
  newBackupId?: (now: Micros) => string;
}

/** `20261127T041500-3f9a2c`: sorts by request time, unique, a valid execution name. */
export const defaultBackupId = (now: Micros) =>
  `${formatKeyTime(now).slice(0, 15)}-${randomBytes(3).toString('hex')}`;

/**
 * `20261127T030000-auto-1a2b3c4d`: the backup of the cluster's scheduled run planned for that
 * second. The cluster hash keeps execution names (unique per state machine, not per cluster)
 * apart between clusters scheduled at the same time.
 */
export const scheduledBackupId = (cluster: string, scheduledAt: Micros) =>
  `${formatKeyTime(scheduledAt).slice(0, 15)}-auto-${createHash('sha256').update(cluster).digest('hex').slice(0, 8)}`;

/**
 * Start a snapshot backup of a cluster: take the cluster's one-at-a-time lock, register the
 * backup as RUNNING and start the snapshot state machine (execution name = backup id, so a
 * retried start cannot run it twice).
 *
 * A scheduled start (`scheduledAt`) is idempotent: its backup id is derived from the planned fire
 * time, and a second delivery of the same run returns the backup the first one started (running,
 * completed or deleted) instead of starting another or failing on the lock the first one holds.
 * Only a FAILED first attempt is taken again, under a fresh id.
 */
export async function run(event: unknown, deps: StartBackupDeps): Promise<BackupRecord> {
  const request = parseEvent(startBackupEvent, event, 'start-backup event');
  const scheduledAt =
    request.scheduledAt !== undefined ? parseIsoMicros(request.scheduledAt, 'scheduledAt') : undefined;
  const cluster = await deps.catalog.getCluster(request.cluster);
  if (!cluster) throw new ClusterNotFoundError(request.cluster);
  if (!isProtected(cluster)) throw new ClusterRemovedError(request.cluster);

  const now = deps.now();
  if (scheduledAt !== undefined) assertRecentSchedule(scheduledAt, now, cluster.retentionDays);
  let backupId = (deps.newBackupId ?? defaultBackupId)(now);
  if (scheduledAt !== undefined) {
    const earlier = await deps.catalog.getBackup(
      request.cluster,
      scheduledBackupId(request.cluster, scheduledAt),
    );
    // A FAILED first attempt is retried under a fresh id; anything else is this run's backup.
    if (earlier && earlier.status !== 'FAILED') return earlier;
    if (!earlier) backupId = scheduledBackupId(request.cluster, scheduledAt);
  }
  // A concurrent delivery of the same scheduled run passes the lock (same holder id) and the
  // begin (RUNNING stays RUNNING); its StartExecution has the same name and input, which Step
  // Functions answers with the execution already started.
  await takeLock(deps, request.cluster, backupId, now);

  const backup = await deps.catalog.beginBackup({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: request.cluster,
    backupId,
    kind: request.kind,
    name: request.name,
    status: 'RUNNING',
    requestedAt: now,
    scheduledAt,
    tables: [],
    items: 0,
    rawBytes: 0,
    storedBytes: 0,
  });
  try {
    const { executionArn } = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: backupId,
        input: JSON.stringify({
          cluster: request.cluster,
          backupId,
          kind: request.kind,
          name: request.name,
          // The stored value: a repeated scheduled start sends the same input (idempotent).
          requestedAt: backup.requestedAt,
        }),
      }),
    );
    return { ...backup, executionArn };
  } catch (error) {
    // A concurrent delivery of this scheduled run started it and it has already finished.
    if (scheduledAt !== undefined && (error as Error).name === 'ExecutionAlreadyExists') {
      const current = await deps.catalog.getBackup(request.cluster, backupId);
      if (current && current.status !== 'RUNNING') return current;
    }
    // Nothing started: record why and free the cluster for the next attempt.
    await deps.catalog.failBackup(request.cluster, backupId, {
      error: 'StartExecutionFailed',
      cause: String(error),
    });
    await deps.catalog.unlockCluster(request.cluster, backupId);
    throw error;
  }
}

/** The scheduler fires on time; more than this ahead of the clock is not a scheduled run. */
const SCHEDULE_AHEAD_MICROS = 5 * 60 * 1_000_000;

/**
 * A scheduled run's `scheduledAt` is recent: not ahead of the clock (beyond the skew the
 * scheduler's and Lambda's clocks may have), and not older than the retention window — such a
 * backup would be outside retention the moment it completed (and 1970 is a typo, not a run).
 */
function assertRecentSchedule(scheduledAt: Micros, now: Micros, retentionDays: number): void {
  const oldest = now - retentionDays * 86_400_000_000;
  if (scheduledAt > now + SCHEDULE_AHEAD_MICROS || scheduledAt < oldest)
    throw new InvalidInputError(
      'scheduledAt',
      `a scheduled fire time between ${formatIsoMicros(oldest)} (the retention window's start) and ${formatIsoMicros(now + SCHEDULE_AHEAD_MICROS)} (now + 5 minutes), got ${formatIsoMicros(scheduledAt)}`,
    );
}

/** A holder whose execution cannot be found is lost only once it is older than this. */
const EXECUTION_APPEARS_WITHIN_MICROS = 5 * 60 * 1_000_000;

/**
 * Take the lock. Before refusing, check the holder: a holder no longer RUNNING released it
 * late; a RUNNING holder whose execution has ended (stopped, timed out, data limit: its Catch
 * never ran) or never appeared is marked FAILED. Either way the stale lock is released once and
 * taken again; a live holder is refused, named with its execution.
 */
async function takeLock(
  deps: StartBackupDeps,
  clusterName: string,
  backupId: string,
  now: Micros,
): Promise<void> {
  const { catalog } = deps;
  try {
    await catalog.lockCluster(clusterName, backupId);
  } catch (error) {
    if (!(error instanceof BackupAlreadyRunningError)) throw error;
    const holderId = error.runningBackupId;
    const holder = await catalog.getBackup(clusterName, holderId);
    if (holder?.status === 'RUNNING') {
      const executionArn = executionArnOf(deps.stateMachineArn, holderId);
      const status = await executionStatus(deps.sfn, executionArn);
      const lost =
        status === undefined
          ? now - holder.requestedAt > EXECUTION_APPEARS_WITHIN_MICROS
          : status !== 'RUNNING';
      if (!lost) throw new BackupAlreadyRunningError(clusterName, holderId, executionArn);
      await catalog.failBackup(clusterName, holderId, {
        error: status ? `Execution${status}` : 'ExecutionLost',
        cause: `execution ${executionArn} ${status ? `ended ${status}` : 'does not exist'} without its Catch; found by the next backup's start`,
      });
    }
    await catalog.unlockCluster(clusterName, holderId);
    await catalog.lockCluster(clusterName, backupId);
  }
}

/** `arn:…:stateMachine:<name>` + execution name → `arn:…:execution:<name>:<execution>`. */
export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

async function executionStatus(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  try {
    return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}
