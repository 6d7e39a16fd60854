import type { RestoreCatalog } from '../adapters/restore-catalog';
import { type RestoreExecutions, restoreRef } from '../adapters/restore-job';
import { parseEvent } from '../core/events';
import { RestoreNotFoundError, RestoreNotResumableError } from '../core/restore-errors';
import type { Micros } from '../core/time';
import { startExecution, startedView } from '../start-restore/run';
import type { StartedRestore } from '../start-restore/schema';

export interface ResumeRestoreDeps {
  restoreCatalog: RestoreCatalog;
  executions: RestoreExecutions;
  now: () => Micros;
  config: {
    /**
     * The new attempt starts no sooner than this after the failure, so workers of the failed
     * attempt still in flight have noticed (`JobFence`) and stopped writing.
     */
    graceMs: number;
  };
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Run a FAILED (or orphaned) restore again: FAILED → RUNNING as the next attempt, and a new
 * execution `<restoreId>-<attempt>` of the restore state machine. Every step is idempotent:
 * tables the job created are reused, load and replay units recorded done are skipped, and a
 * unit run again rewrites the same items, so the result equals an uninterrupted restore.
 *
 * A job still RUNNING whose execution is gone (the local cloud stopped, an execution was
 * stopped by hand) is first marked FAILED ("ExecutionLost"), then resumed.
 * Console event: `{"cluster": "shop", "restoreId": "r20261127T041500-3f9a2c"}`.
 */
export async function run(event: unknown, deps: ResumeRestoreDeps): Promise<StartedRestore> {
  const ref = parseEvent(restoreRef.strict(), event, 'resume-restore event');
  let job = await deps.restoreCatalog.getRestore(ref.cluster, ref.restoreId);
  if (!job) throw new RestoreNotFoundError(ref.cluster, ref.restoreId);
  if (job.status === 'RUNNING') {
    const status = job.executionArn ? await deps.executions.status(job.executionArn) : undefined;
    if (status === 'RUNNING')
      throw new RestoreNotResumableError(job.restoreId, 'RUNNING (its execution runs)');
    job = await deps.restoreCatalog.failRestore(
      job.clusterName,
      job.restoreId,
      { error: 'ExecutionLost', cause: `execution ${job.executionArn ?? '(none)'} is ${status ?? 'gone'}` },
      deps.now(),
    );
  }
  if (job.status !== 'FAILED') throw new RestoreNotResumableError(job.restoreId, job.status);
  const waitMs = ((job.finishedAt ?? 0) + deps.config.graceMs * 1000 - deps.now()) / 1000;
  if (waitMs > 0) await (deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(waitMs);
  const resumed = await deps.restoreCatalog.resumeRestore(job.clusterName, job.restoreId, job.attempt + 1);
  const executionArn = await startExecution(deps, resumed, `${resumed.restoreId}-${resumed.attempt}`);
  return startedView(resumed, executionArn);
}
