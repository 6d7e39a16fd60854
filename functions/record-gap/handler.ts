import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { awsClients, logger, metrics } from '../adapters/lambda-runtime';
import { serviceMetric } from '../core/metric-names';
import { parseEnv, recordGapEnv } from '../env';
import type { BatchResponse } from '../ship-log/schema';
import { run } from './run';

/** Triggered by the SQS queue that is ship-log's on-failure destination. */
async function recordGap(event: unknown): Promise<BatchResponse> {
  const env = parseEnv(recordGapEnv, process.env);
  const result = await run(event, {
    logCatalog: new DynamoLogCatalog(awsClients().dynamodb, env.CATALOG_TABLE_NAME),
    now: nowMicros,
    config: { marginMicros: env.PROPAGATION_MARGIN_MS * 1000 },
  });
  for (const { gap, recorded } of result.gaps) {
    metrics.addMetric(serviceMetric.gapsRecorded, MetricUnit.Count, recorded ? 1 : 0);
    logger.error('log gap: Lambda discarded a batch of changes', { gap, recorded });
  }
  return { batchItemFailures: result.batchItemFailures };
}

export const handler = middy(recordGap).use(injectLambdaContext(logger)).use(logMetrics(metrics));
