import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { logger, storeFor } from '../adapters/lambda-runtime';
import { manifests, restoreCatalogFor, targetTables } from '../adapters/restore-runtime';
import { parseEnv, restoreCreateTablesEnv } from '../env';
import { run } from './run';

async function createTables(event: unknown) {
  const env = parseEnv(restoreCreateTablesEnv, process.env);
  return run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    tables: targetTables(),
    now: nowMicros,
    manifests,
    config: {
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
      warmWritesPerSecond: env.WARM_WRITES_PER_SECOND,
      waitSeconds: env.TABLE_WAIT_SECONDS,
    },
  });
}

export const handler = middy(createTables).use(injectLambdaContext(logger));
