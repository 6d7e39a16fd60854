import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, catalogFor, logger } from '../adapters/lambda-runtime';
import { parseEnv, startBackupEnv } from '../env';
import { run } from './run';

/** Console: invoke with `{"cluster": "shop", "name": "before-migration"}`. */
async function startBackup(event: unknown) {
  const env = parseEnv(startBackupEnv, process.env);
  return run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    sfn: awsClients().sfn,
    stateMachineArn: env.SNAPSHOT_STATE_MACHINE_ARN,
    now: nowMicros,
  });
}

export const handler = middy(startBackup).use(injectLambdaContext(logger));
