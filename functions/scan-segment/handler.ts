import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsClients, logger, metrics, storeFor } from '../adapters/lambda-runtime';
import { parseEnv, scanSegmentEnv } from '../env';
import { run } from './run';

async function scanSegment(event: unknown, context: Context) {
  const env = parseEnv(scanSegmentEnv, process.env);
  const result = await run(event, {
    dynamodb: awsClients().dynamodb,
    store: storeFor(env.BUCKET_NAME),
    remainingMs: () => context.getRemainingTimeInMillis(),
    config: {
      chunkMaxRawBytes: env.CHUNK_MAX_RAW_BYTES,
      timeReserveMs: env.TIME_RESERVE_MS,
      pageLimit: env.SCAN_PAGE_LIMIT,
    },
  });
  metrics.addMetric('SegmentInvocations', MetricUnit.Count, 1);
  logger.info('segment pass', {
    table: result.table,
    segment: result.segment,
    items: result.items,
    done: result.done,
  });
  return result;
}

export const handler = middy(scanSegment).use(injectLambdaContext(logger)).use(logMetrics(metrics));
