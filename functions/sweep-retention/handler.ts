import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { awsClients, catalogFor, logger, metrics, storeFor } from '../adapters/lambda-runtime';
import { serviceMetric } from '../core/metric-names';
import { parseEnv, sweepRetentionEnv } from '../env';
import { run } from './run';

/** Daily schedule: `{"cluster": "shop", "confirm": true}`; console: without `confirm`, a plan. */
async function sweepRetention(event: unknown) {
  const env = parseEnv(sweepRetentionEnv, process.env);
  const result = await run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(awsClients().dynamodb, env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    now: nowMicros,
    config: {
      marginMicros: env.SKEW_MARGIN_MS * 1000,
      failedGraceMicros: env.FAILED_GRACE_HOURS * 3_600_000_000,
    },
  });
  logger.info('retention sweep', {
    cluster: result.cluster,
    now: result.now,
    keep: result.keep.length,
    delete: result.delete.length,
    deletedBackups: result.deleted.backups.length,
    deletedLogObjects: result.deleted.logObjects.length,
  });
  metrics.addMetric(serviceMetric.sweptBackups, MetricUnit.Count, result.deleted.backups.length);
  metrics.addMetric(serviceMetric.sweptLogObjects, MetricUnit.Count, result.deleted.logObjects.length);
  return result;
}

export const handler = middy(sweepRetention).use(injectLambdaContext(logger)).use(logMetrics(metrics));
