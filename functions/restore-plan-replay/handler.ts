import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { logger, storeFor } from '../adapters/lambda-runtime';
import { logCatalogFor, manifests, restoreCatalogFor } from '../adapters/restore-runtime';
import { parseEnv, restorePlanReplayEnv } from '../env';
import { run } from './run';

async function planReplay(event: unknown) {
  const env = parseEnv(restorePlanReplayEnv, process.env);
  return run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    logCatalog: logCatalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    now: nowMicros,
    manifests,
    config: {
      targetRecordsPerPartition: env.TARGET_RECORDS_PER_PARTITION,
      maxPartitions: env.MAX_PARTITIONS,
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
    },
  });
}

export const handler = middy(planReplay).use(injectLambdaContext(logger));
