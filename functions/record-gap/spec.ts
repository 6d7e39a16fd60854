import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { serviceMetric } from '../core/metric-names';
import { catalogTableName, propagationMargin } from '../env';
import type { BatchResponse } from '../ship-log/schema';
import { defineFunction } from '../spec';
import { run } from './run';

/** The SQS queue that is ship-log's on-failure destination (locally, the poller's record). */
export const recordGapSpec = defineFunction({
  name: 'record-gap',
  entry: 'functions/record-gap/handler.ts',
  description: 'Rewind: records a log gap for a Kinesis batch ship-log gave up on',
  memorySize: 256,
  timeoutSeconds: 60,
  env: z.object({ ...catalogTableName, ...propagationMargin }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
    config: { marginMicros: env.PROPAGATION_MARGIN_MS * 1000 },
  }),
  run,
  respond: (result, _env, { logger, metrics }): BatchResponse => {
    for (const { gap, recorded } of result.gaps) {
      metrics.addMetric(serviceMetric.gapsRecorded, MetricUnit.Count, recorded ? 1 : 0);
      logger.error('log gap: Lambda discarded a batch of changes', { gap, recorded });
    }
    return { batchItemFailures: result.batchItemFailures };
  },
});
