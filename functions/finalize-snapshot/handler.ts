import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, catalogFor, logger, publishClusterMetric, storeFor } from '../adapters/lambda-runtime';
import { clusterMetric } from '../core/metric-names';
import { finalizeSnapshotEnv, parseEnv } from '../env';
import { run } from './run';

async function finalizeSnapshot(event: unknown) {
  const env = parseEnv(finalizeSnapshotEnv, process.env);
  const completed = await run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    dynamodb: awsClients().dynamodb,
    store: storeFor(env.BUCKET_NAME),
    now: nowMicros,
    config: { skewMarginMicros: env.SKEW_MARGIN_MS * 1000 },
  });
  // The "no backup for N hours" alarm counts these (cdk/constructs/monitoring.ts).
  publishClusterMetric(completed.clusterName, clusterMetric.backupCompleted, MetricUnit.Count, 1);
  logger.info('backup completed', {
    cluster: completed.clusterName,
    backupId: completed.backupId,
    items: completed.items,
    storedBytes: completed.storedBytes,
  });
  return completed;
}

export const handler = middy(finalizeSnapshot).use(injectLambdaContext(logger));
