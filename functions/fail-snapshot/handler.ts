import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { catalogFor, logger } from '../adapters/lambda-runtime';
import { failSnapshotEnv, parseEnv } from '../env';
import { run } from './run';

async function failSnapshot(event: unknown) {
  const env = parseEnv(failSnapshotEnv, process.env);
  return run(event, { catalog: catalogFor(env.CATALOG_TABLE_NAME) });
}

export const handler = middy(failSnapshot).use(injectLambdaContext(logger));
