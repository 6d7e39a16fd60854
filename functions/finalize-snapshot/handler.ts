import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, catalogFor, logger, storeFor } from '../adapters/lambda-runtime';
import { finalizeSnapshotEnv, parseEnv } from '../env';
import { run } from './run';

async function finalizeSnapshot(event: unknown) {
  const env = parseEnv(finalizeSnapshotEnv, process.env);
  return run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    dynamodb: awsClients().dynamodb,
    store: storeFor(env.BUCKET_NAME),
    now: nowMicros,
    config: { skewMarginMicros: env.SKEW_MARGIN_MS * 1000 },
  });
}

export const handler = middy(finalizeSnapshot).use(injectLambdaContext(logger));
