import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { catalogTableName, snapshotStateMachineArn } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Schedule, CLI, console: invoke with `{"cluster": "shop", "name": "before-migration"}`. */
export const startBackupSpec = defineFunction({
  name: 'start-backup',
  entry: 'functions/start-backup/handler.ts',
  description: 'Rewind: starts a snapshot backup of a cluster (schedule, CLI)',
  memorySize: 256,
  timeoutSeconds: 60,
  env: z.object({ ...catalogTableName, ...snapshotStateMachineArn }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    sfn: clients.sfn,
    stateMachineArn: env.SNAPSHOT_STATE_MACHINE_ARN,
    now: nowMicros,
  }),
  run,
});
