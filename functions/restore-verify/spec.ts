import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { manifests } from '../adapters/restore-runtime';
import { DynamoTargetTables } from '../adapters/restore-tables';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, last task: count the targets, mark the restore COMPLETED. */
export const restoreVerifySpec = defineFunction({
  name: 'restore-verify',
  entry: 'functions/restore-verify/handler.ts',
  description: 'Rewind restore: counts the target tables and marks the restore COMPLETED',
  substitution: 'RestoreVerifyFunctionArn',
  memorySize: 512,
  timeoutSeconds: 900,
  env: z.object(storage),
  deps: (env, { clients }) => ({
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    tables: new DynamoTargetTables(clients.dynamodb),
    now: nowMicros,
    manifests,
  }),
  run,
});
