import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, storeFor } from '../adapters/lambda-runtime';
import { manifests, restoreCatalogFor, targetTables } from '../adapters/restore-runtime';
import { parseEnv, restoreLoadEnv } from '../env';
import { run } from './run';

async function load(event: unknown, context: Context) {
  const env = parseEnv(restoreLoadEnv, process.env);
  const result = await run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    tables: targetTables(),
    manifests,
    remainingMs: () => context.getRemainingTimeInMillis(),
    config: { writeConcurrency: env.WRITE_CONCURRENCY, timeReserveMs: env.TIME_RESERVE_MS },
  });
  metrics.addMetric('RestoreItemsLoaded', MetricUnit.Count, result.items);
  return result;
}

export const handler = middy(load).use(injectLambdaContext(logger)).use(logMetrics(metrics));
