import { randomBytes } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Catalog } from '../adapters/catalog';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../core/catalog-model';
import { BackupAlreadyRunningError, ClusterNotFoundError } from '../core/errors';
import { parseEvent } from '../core/events';
import { formatKeyTime, type Micros } from '../core/time';
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
 * Start a snapshot backup of a cluster: take the cluster's one-at-a-time lock, register the
 * backup as RUNNING and start the snapshot state machine (execution name = backup id, so a
 * retried start cannot run it twice).
 */
export async function run(event: unknown, deps: StartBackupDeps): Promise<BackupRecord> {
  const request = parseEvent(startBackupEvent, event, 'start-backup event');
  const cluster = await deps.catalog.getCluster(request.cluster);
  if (!cluster) throw new ClusterNotFoundError(request.cluster);

  const now = deps.now();
  const backupId = (deps.newBackupId ?? defaultBackupId)(now);
  await takeLock(deps.catalog, request.cluster, backupId);

  const backup = await deps.catalog.beginBackup({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: request.cluster,
    backupId,
    kind: request.kind,
    name: request.name,
    status: 'RUNNING',
    requestedAt: now,
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
          requestedAt: now,
        }),
      }),
    );
    return { ...backup, executionArn };
  } catch (error) {
    // Nothing started: record why and free the cluster for the next attempt.
    await deps.catalog.failBackup(request.cluster, backupId, {
      error: 'StartExecutionFailed',
      cause: String(error),
    });
    await deps.catalog.unlockCluster(request.cluster, backupId);
    throw error;
  }
}

/**
 * Take the lock; if its holder is no longer RUNNING (its execution died without releasing it),
 * release the stale lock once and try again.
 */
async function takeLock(catalog: Catalog, clusterName: string, backupId: string): Promise<void> {
  try {
    await catalog.lockCluster(clusterName, backupId);
  } catch (error) {
    if (!(error instanceof BackupAlreadyRunningError)) throw error;
    const holder = await catalog.getBackup(clusterName, error.runningBackupId);
    if (holder?.status === 'RUNNING') throw error;
    await catalog.unlockCluster(clusterName, error.runningBackupId);
    await catalog.lockCluster(clusterName, backupId);
  }
}
