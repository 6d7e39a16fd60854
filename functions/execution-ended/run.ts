import { z } from 'zod';
import type { Catalog } from '../adapters/catalog';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { parseEvent } from '../core/events';
import type { Micros } from '../core/time';
import { type ExecutionEndedResult, executionEndedEvent } from './schema';

export interface ExecutionEndedDeps {
  catalog: Catalog;
  restoreCatalog: RestoreCatalog;
  now: () => Micros;
}

const snapshotInput = z.object({ cluster: z.string().min(1), backupId: z.string().min(1) });
const restoreInput = z.object({ cluster: z.string().min(1), restoreId: z.string().min(1) });

/**
 * An execution ended without its Catch (stopped, timed out, States.DataLimitExceeded, a killed
 * runtime): mark its backup or restore FAILED with the cause and free the cluster lock, as the
 * state machine's own MarkFailed would have (docs/design.md §3.10). Idempotent and harmless
 * for executions whose Catch did run: the record is no longer RUNNING and stays as it is.
 */
export async function run(event: unknown, deps: ExecutionEndedDeps): Promise<ExecutionEndedResult> {
  const { detail } = parseEvent(executionEndedEvent, event, 'execution status change event');
  const base = { executionArn: detail.executionArn, status: detail.status };
  if (detail.status === 'RUNNING' || detail.status === 'SUCCEEDED') return { ...base, marked: 'none' };
  const failure = {
    error:
      detail.error ||
      `Execution${detail.status === 'TIMED_OUT' ? 'TimedOut' : detail.status === 'ABORTED' ? 'Aborted' : 'Failed'}`,
    cause: `execution ${detail.executionArn} ended ${detail.status} without its Catch${detail.cause ? `: ${detail.cause.slice(0, 1500)}` : ''}`,
  };
  const input = parseInput(detail.input);
  const snapshot = snapshotInput.safeParse(input);
  if (snapshot.success) {
    const { cluster, backupId } = snapshot.data;
    const backup = await deps.catalog.getBackup(cluster, backupId);
    if (backup?.status !== 'RUNNING') return { ...base, marked: 'none', cluster, id: backupId };
    await deps.catalog.failBackup(cluster, backupId, failure);
    await deps.catalog.unlockCluster(cluster, backupId);
    return { ...base, marked: 'backup', cluster, id: backupId };
  }
  const restore = restoreInput.safeParse(input);
  if (restore.success) {
    const { cluster, restoreId } = restore.data;
    const job = await deps.restoreCatalog.getRestore(cluster, restoreId);
    // A resumed job runs under a newer execution: an older attempt's end must not fail it.
    if (job?.status !== 'RUNNING' || (job.executionArn && job.executionArn !== detail.executionArn))
      return { ...base, marked: 'none', cluster, id: restoreId };
    await deps.restoreCatalog.failRestore(cluster, restoreId, failure, deps.now());
    return { ...base, marked: 'restore', cluster, id: restoreId };
  }
  return { ...base, marked: 'none' };
}

function parseInput(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
