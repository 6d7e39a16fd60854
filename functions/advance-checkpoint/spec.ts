import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { publishClusterMetric } from '../adapters/lambda-runtime';
import { clusterMetric } from '../core/metric-names';
import { catalogTableName, positiveInt, propagationMargin } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** EventBridge schedule (every minute); console: `{"cluster": "shop"}`. */
export const advanceCheckpointSpec = defineFunction({
  name: 'advance-checkpoint',
  entry: 'functions/advance-checkpoint/handler.ts',
  description: 'Rewind: advances each cluster log checkpoint across idle shards',
  memorySize: 512,
  timeoutSeconds: 50,
  env: z.object({
    ...catalogTableName,
    ...propagationMargin,
    /** GetRecords calls in flight per cluster. */
    SHARD_CONCURRENCY: positiveInt.default(8),
  }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    kinesis: clients.kinesis,
    now: nowMicros,
    config: { marginMicros: env.PROPAGATION_MARGIN_MS * 1000, shardConcurrency: env.SHARD_CONCURRENCY },
  }),
  run,
  respond: (result, _env, { logger, metrics }) => {
    for (const report of result.clusters) {
      const publish = (name: (typeof clusterMetric)[keyof typeof clusterMetric], seconds?: number) => {
        if (seconds !== undefined)
          publishClusterMetric(report.cluster, name, MetricUnit.Seconds, seconds, metrics);
      };
      publish(clusterMetric.rpoSeconds, report.rpoSeconds);
      publish(clusterMetric.backupAgeSeconds, report.backupAgeSeconds);
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
  },
});
