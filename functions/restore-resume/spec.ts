import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { SfnRestoreExecutions } from '../adapters/restore-job';
import { catalogTableName, positiveInt, restoreStateMachineArn } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Console: `{"cluster": "shop", "restoreId": "r20261127T041500-3f9a2c"}`. */
export const restoreResumeSpec = defineFunction({
  name: 'restore-resume',
  entry: 'functions/restore-resume/handler.ts',
  description: 'Rewind: runs a FAILED restore again from where it stopped',
  memorySize: 256,
  timeoutSeconds: 120,
  env: z.object({
    ...catalogTableName,
    ...restoreStateMachineArn,
    /** The new attempt waits this long after the failure: workers in flight notice and stop first. */
    RESUME_GRACE_MS: positiveInt.default(30_000),
  }),
  deps: (env, { clients }) => ({
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    executions: new SfnRestoreExecutions(clients.sfn, env.RESTORE_STATE_MACHINE_ARN),
    now: nowMicros,
    config: { graceMs: env.RESUME_GRACE_MS },
  }),
  run,
});
