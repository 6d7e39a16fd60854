import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { awsClients, catalogFor, logger, metrics, publishClusterMetric } from '../adapters/lambda-runtime';
import { clusterMetric } from '../core/metric-names';
import { advanceCheckpointEnv, parseEnv } from '../env';
import { run } from './run';

let kinesis: KinesisClient | undefined;

/** EventBridge schedule (every minute); console: `{"cluster": "shop"}`. */
async function advanceCheckpoint(event: unknown) {
  const env = parseEnv(advanceCheckpointEnv, process.env);
  kinesis ??= new KinesisClient({ maxAttempts: 6 });
  const result = await run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(awsClients().dynamodb, env.CATALOG_TABLE_NAME),
    kinesis,
    now: nowMicros,
    config: { marginMicros: env.PROPAGATION_MARGIN_MS * 1000, shardConcurrency: env.SHARD_CONCURRENCY },
  });
  for (const report of result.clusters) {
    if (report.rpoSeconds !== undefined) {
      publishClusterMetric(report.cluster, clusterMetric.rpoSeconds, MetricUnit.Seconds, report.rpoSeconds);
    }
    if (report.backupAgeSeconds !== undefined)
      publishClusterMetric(
        report.cluster,
        clusterMetric.backupAgeSeconds,
        MetricUnit.Seconds,
        report.backupAgeSeconds,
      );
    const errors = report.shards.filter((s) => s.action.startsWith('error'));
    if (errors.length > 0) logger.error('shards not advanced', { cluster: report.cluster, errors });
    logger.info('checkpoint', {
      cluster: report.cluster,
      stream: report.stream,
      checkpoint: report.checkpoint,
      limitedBy: report.computed?.limitedBy,
      advanced: report.advanced,
    });
  }
  return result;
}

export const handler = middy(advanceCheckpoint).use(injectLambdaContext(logger)).use(logMetrics(metrics));
