import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { serviceMetric } from '../core/metric-names';
import { propagationMargin, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';
import type { BatchResponse } from './schema';

/**
 * Kinesis event source on each cluster's stream (ReportBatchItemFailures on,
 * ParallelizationFactor 1, on-failure destination → the queue record-gap reads): returns the
 * batch item failures, which is all the event source reads.
 */
export const shipLogSpec = defineFunction({
  name: 'ship-log',
  entry: 'functions/ship-log/handler.ts',
  description: 'Rewind: ships DynamoDB change records from Kinesis to S3 log segments',
  memorySize: 1024,
  timeoutSeconds: 300,
  env: z.object({ ...storage, ...propagationMargin }),
  deps: (env, { clients }) => ({
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
  }),
  run,
  respond: (result, env, { logger, metrics }): BatchResponse => {
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
  },
});
