import { z } from 'zod';

/**
 * EventBridge "Step Functions Execution Status Change" (source aws.states), as the rule on the
 * stack's state machines delivers it for FAILED, TIMED_OUT and ABORTED executions; the local
 * control plane sends the same shape. Only the fields Rewind reads are declared.
 */
export const executionEndedEvent = z.object({
  source: z.literal('aws.states', { error: 'source "aws.states"' }),
  'detail-type': z.literal('Step Functions Execution Status Change', {
    error: 'detail-type "Step Functions Execution Status Change"',
  }),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    /** The execution input as JSON text (null when larger than EventBridge carries). */
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionEndedEvent = z.input<typeof executionEndedEvent>;

/** What the function did with one event. */
export interface ExecutionEndedResult {
  executionArn: string;
  status: string;
  /** `backup` / `restore` marked FAILED; `none` when the record had already ended (its Catch ran). */
  marked: 'backup' | 'restore' | 'none';
  cluster?: string;
  id?: string;
}
