import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { logger, storeFor } from '../adapters/lambda-runtime';
import { manifests, restoreCatalogFor, targetTables } from '../adapters/restore-runtime';
import { parseEnv, restoreVerifyEnv } from '../env';
import { run } from './run';

async function verify(event: unknown) {
  const env = parseEnv(restoreVerifyEnv, process.env);
  return run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    tables: targetTables(),
    now: nowMicros,
    manifests,
  });
}

export const handler = middy(verify).use(injectLambdaContext(logger));
