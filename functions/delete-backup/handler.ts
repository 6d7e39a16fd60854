import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { catalogFor, logger, storeFor } from '../adapters/lambda-runtime';
import { deleteBackupEnv, parseEnv } from '../env';
import { run } from './run';

/** Console: invoke with `{"cluster": "shop", "backupId": "20261127T041500-3f9a2c"}`. */
async function deleteBackup(event: unknown) {
  const env = parseEnv(deleteBackupEnv, process.env);
  const result = await run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    store: storeFor(env.BUCKET_NAME),
    now: nowMicros,
  });
  logger.info('backup deleted', {
    cluster: result.cluster,
    backupId: result.backupId,
    deletedObjects: result.deletedObjects,
  });
  return result;
}

export const handler = middy(deleteBackup).use(injectLambdaContext(logger));
