import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { StaleStateError } from '../core/errors';
import { RestoreNotFoundError } from '../core/restore-errors';
import type { RestoreJob } from '../core/restore-model';
import type { RestoreCatalog } from './restore-catalog';

/** What the restore state machine passes between its steps: the job's identity, nothing more. */
export const restoreRef = z.object({
  cluster: z.string().min(1),
  restoreId: z.string().min(1),
});

/** A work unit's identity: the job and the attempt that scheduled it (absent: any attempt). */
export const attemptRef = restoreRef.extend({ attempt: z.number().int().positive().optional() });
export type RestoreRef = z.infer<typeof restoreRef>;

/**
 * The job, which must be RUNNING: a worker of a job that has FAILED (or finished) stops
 * instead of writing on, and the state machine's Catch records nothing new.
 */
export async function runningJob(catalog: RestoreCatalog, ref: RestoreRef): Promise<RestoreJob> {
  const job = await catalog.getRestore(ref.cluster, ref.restoreId);
  if (!job) throw new RestoreNotFoundError(ref.cluster, ref.restoreId);
  if (job.status !== 'RUNNING') throw new StaleStateError(`restore ${ref.restoreId}`, 'RUNNING');
  return job;
}

/** The target of a source table in the job's plan. */
export function targetOf(job: RestoreJob, source: string): string {
  const entry = job.plan.tables.find((t) => t.source === source);
  if (!entry) throw new StaleStateError(`table ${source}`, `part of restore ${job.restoreId}`);
  return entry.target;
}

/** Starting and inspecting executions of the restore state machine. */
export interface RestoreExecutions {
  /** Start execution `name` (idempotent for the same name and input); returns its ARN. */
  start(name: string, input: RestoreRef): Promise<string>;
  /** RUNNING, SUCCEEDED, FAILED, …; `undefined` when the execution is unknown. */
  status(executionArn: string): Promise<string | undefined>;
}

export class SfnRestoreExecutions implements RestoreExecutions {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: RestoreRef): Promise<string> {
    const { executionArn } = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
    return executionArn ?? `${this.stateMachineArn}:${name}`;
  }

  async status(executionArn: string): Promise<string | undefined> {
    try {
      const { status } = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return status;
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }
}

/**
 * Keeps a worker from writing for an attempt that is over. When an execution fails, Step
 * Functions stops scheduling its workers but Lambda lets invocations in flight run on; if the
 * restore is resumed meanwhile, such a stale load worker could put a snapshot item over a
 * change the new attempt has replayed. So a worker checks, at most once per `intervalMs` while
 * it writes, that the job is still RUNNING as its attempt, and stops otherwise; and resume
 * waits a grace period after the failure (longer than an interval plus the writes in flight)
 * before the new attempt starts.
 */
export class JobFence {
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly catalog: RestoreCatalog,
    private readonly ref: RestoreRef,
    private readonly attempt: number | undefined,
    private readonly intervalMs = 1_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws `StaleStateError` when the job is no longer this attempt's (checked at most once per interval). */
  async check(): Promise<void> {
    const now = this.clock();
    if (now - this.checkedAt < this.intervalMs) return;
    this.checkedAt = now;
    const job = await runningJob(this.catalog, this.ref);
    if (this.attempt !== undefined && job.attempt !== this.attempt)
      throw new StaleStateError(`restore ${this.ref.restoreId}`, `at attempt ${this.attempt}`);
  }
}
