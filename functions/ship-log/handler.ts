import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { awsClients, logger, metrics, storeFor } from '../adapters/lambda-runtime';
import { serviceMetric } from '../core/metric-names';
import { parseEnv, shipLogEnv } from '../env';
import { run } from './run';
import type { BatchResponse } from './schema';

/** Kinesis event source (ReportBatchItemFailures on): returns the batch item failures. */
async function shipLog(event: unknown): Promise<BatchResponse> {
  const env = parseEnv(shipLogEnv, process.env);
  const result = await run(event, {
    store: storeFor(env.BUCKET_NAME),
    logCatalog: new DynamoLogCatalog(awsClients().dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
  });
  metrics.addMetric(serviceMetric.recordsShipped, MetricUnit.Count, result.shipped);
  metrics.addMetric(serviceMetric.decodeFailures, MetricUnit.Count, result.decodeFailures);
  metrics.addMetric('LogObjectsWritten', MetricUnit.Count, result.objects.length);
  metrics.addMetric('CheckpointLag', MetricUnit.Milliseconds, result.checkpointLagMicros / 1000);
  metrics.addMetric('PropagationDelay', MetricUnit.Milliseconds, result.maxPropagationMicros / 1000);
  if (result.maxPropagationMicros > env.PROPAGATION_MARGIN_MS * 1000) {
    // The checkpoint's margin assumes changes reach Kinesis within it (core/checkpoint.ts).
    logger.warn('change reached Kinesis later than the propagation margin', {
      cluster: result.cluster,
      propagationMs: result.maxPropagationMicros / 1000,
      marginMs: env.PROPAGATION_MARGIN_MS,
    });
  }
  if (result.decodeFailures > 0) {
    logger.error('records that are not DynamoDB changes', {
      cluster: result.cluster,
      failures: result.batchItemFailures.map((f) => f.itemIdentifier),
    });
  }
  return { batchItemFailures: result.batchItemFailures };
}

export const handler = middy(shipLog).use(injectLambdaContext(logger)).use(logMetrics(metrics));
