import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, catalogFor, logger } from '../adapters/lambda-runtime';
import { parseEnv, prepareSnapshotEnv } from '../env';
import { run } from './run';

async function prepareSnapshot(event: unknown) {
  const env = parseEnv(prepareSnapshotEnv, process.env);
  return run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    dynamodb: awsClients().dynamodb,
    now: nowMicros,
    config: {
      targetBytesPerSegment: env.SEGMENT_TARGET_BYTES,
      minSegments: env.MIN_SEGMENTS,
      maxSegments: env.MAX_SEGMENTS,
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
    },
  });
}

export const handler = middy(prepareSnapshot).use(injectLambdaContext(logger));
