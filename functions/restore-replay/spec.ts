import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { DynamoTargetTables } from '../adapters/restore-tables';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { fenceInterval, storage, writeConcurrency } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, replay Map item: one partition of the change log. */
export const restoreReplaySpec = defineFunction({
  name: 'restore-replay',
  entry: 'functions/restore-replay/handler.ts',
  description: 'Rewind restore: replays one partition of the change log',
  substitution: 'RestoreReplayFunctionArn',
  memorySize: 2048,
  timeoutSeconds: 900,
  env: z.object({ ...storage, ...writeConcurrency, ...fenceInterval }),
  deps: (env, { clients }) => ({
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    tables: new DynamoTargetTables(clients.dynamodb),
    config: { writeConcurrency: env.WRITE_CONCURRENCY, fenceIntervalMs: env.FENCE_INTERVAL_MS },
  }),
  run,
  respond: (result, _env, { metrics }) => {
    metrics.addMetric('RestoreChangesKept', MetricUnit.Count, result.kept);
    return result;
  },
});
