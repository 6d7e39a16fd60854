import { randomUUID } from 'node:crypto';

/** What an ended execution's status-change event carries. */
export interface EndedExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  input: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
}

export const EXECUTION_ENDED_FUNCTION = 'execution-ended';

/** The EventBridge event Step Functions emits when an execution's status changes. */
export function executionStatusChange(e: EndedExecution, region: string, account: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account,
    time: (e.stopDate ?? new Date()).toISOString(),
    region,
    resources: [e.executionArn],
    detail: {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate.getTime(),
      stopDate: e.stopDate?.getTime() ?? null,
      input: e.input,
      output: null,
      error: e.error ?? null,
      cause: e.cause ?? null,
    },
  };
}
