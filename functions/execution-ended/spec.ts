import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { catalogTableName } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** EventBridge rule on the stack's state machines (FAILED, TIMED_OUT, ABORTED executions). */
export const executionEndedSpec = defineFunction({
  name: 'execution-ended',
  entry: 'functions/execution-ended/handler.ts',
  description: 'Rewind: marks a backup or restore FAILED when its execution ends without its Catch',
  memorySize: 256,
  timeoutSeconds: 60,
  env: z.object({ ...catalogTableName }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
  }),
  run,
  respond: (result, _env, { logger }) => {
    if (result.marked !== 'none')
      logger.warn('execution ended without its Catch: marked FAILED', { ...result });
    return result;
  },
});
