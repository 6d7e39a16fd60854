import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { catalogFor, logger, publishClusterMetric } from '../adapters/lambda-runtime';
import { clusterMetric } from '../core/metric-names';
import { failSnapshotEnv, parseEnv } from '../env';
import { run } from './run';

async function failSnapshot(event: unknown) {
  const env = parseEnv(failSnapshotEnv, process.env);
  const failed = await run(event, { catalog: catalogFor(env.CATALOG_TABLE_NAME) });
  publishClusterMetric(failed.clusterName, clusterMetric.backupFailed, MetricUnit.Count, 1);
  logger.error('backup failed', {
    cluster: failed.clusterName,
    backupId: failed.backupId,
    failure: failed.failure,
  });
  return failed;
}

export const handler = middy(failSnapshot).use(injectLambdaContext(logger));
