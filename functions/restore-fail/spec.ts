import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { catalogTableName } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, Catch: the restore is FAILED. */
export const restoreFailSpec = defineFunction({
  name: 'restore-fail',
  entry: 'functions/restore-fail/handler.ts',
  description: 'Rewind restore: marks a restore FAILED',
  substitution: 'RestoreFailFunctionArn',
  memorySize: 256,
  timeoutSeconds: 60,
  env: z.object(catalogTableName),
  deps: (env, { clients }) => ({
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
  }),
  run,
});
