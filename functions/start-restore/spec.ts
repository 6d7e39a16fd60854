import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { SfnRestoreExecutions } from '../adapters/restore-job';
import { DynamoTargetTables } from '../adapters/restore-tables';
import { catalogTableName, skewMargin } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Console: `{"cluster": "shop", "to": "latest", "targetPrefix": "restored-"}`. */
export const startRestoreSpec = defineFunction({
  name: 'start-restore',
  entry: 'functions/start-restore/handler.ts',
  description: 'Rewind: plans a point-in-time restore of a cluster and starts it (CLI, console)',
  memorySize: 512,
  timeoutSeconds: 60,
  env: z.object({
    ...catalogTableName,
    ...skewMargin,
    RESTORE_STATE_MACHINE_ARN: z.string().min(1),
  }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    tables: new DynamoTargetTables(clients.dynamodb),
    executions: new SfnRestoreExecutions(clients.sfn, env.RESTORE_STATE_MACHINE_ARN),
    now: nowMicros,
    config: { skewMarginMicros: env.SKEW_MARGIN_MS * 1000 },
  }),
  run,
});
