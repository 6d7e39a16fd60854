import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, logger } from '../adapters/lambda-runtime';
import { SfnRestoreExecutions } from '../adapters/restore-job';
import { restoreCatalogFor } from '../adapters/restore-runtime';
import { parseEnv, resumeRestoreEnv } from '../env';
import { run } from './run';

/** Console: `{"cluster": "shop", "restoreId": "r20261127T041500-3f9a2c"}`. */
async function resumeRestore(event: unknown) {
  const env = parseEnv(resumeRestoreEnv, process.env);
  return run(event, {
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    executions: new SfnRestoreExecutions(awsClients().sfn, env.RESTORE_STATE_MACHINE_ARN),
    now: nowMicros,
    config: { graceMs: env.RESUME_GRACE_MS },
  });
}

export const handler = middy(resumeRestore).use(injectLambdaContext(logger));
