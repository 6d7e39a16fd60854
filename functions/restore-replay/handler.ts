import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics, storeFor } from '../adapters/lambda-runtime';
import { logCatalogFor, restoreCatalogFor, targetTables } from '../adapters/restore-runtime';
import { parseEnv, restoreReplayEnv } from '../env';
import { run } from './run';

async function replay(event: unknown) {
  const env = parseEnv(restoreReplayEnv, process.env);
  const result = await run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    logCatalog: logCatalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    tables: targetTables(),
    config: { writeConcurrency: env.WRITE_CONCURRENCY },
  });
  metrics.addMetric('RestoreChangesKept', MetricUnit.Count, result.kept);
  return result;
}

export const handler = middy(replay).use(injectLambdaContext(logger)).use(logMetrics(metrics));
