import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { logger } from '../adapters/lambda-runtime';
import { restoreCatalogFor } from '../adapters/restore-runtime';
import { parseEnv, restoreFailEnv } from '../env';
import { run } from './run';

async function failRestore(event: unknown) {
  const env = parseEnv(restoreFailEnv, process.env);
  return run(event, { restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME), now: nowMicros });
}

export const handler = middy(failRestore).use(injectLambdaContext(logger));
