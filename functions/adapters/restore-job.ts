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
