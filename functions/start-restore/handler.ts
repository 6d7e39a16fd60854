import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { nowMicros } from '../adapters/clock';
import { awsClients, catalogFor, logger } from '../adapters/lambda-runtime';
import { SfnRestoreExecutions } from '../adapters/restore-job';
import { logCatalogFor, restoreCatalogFor, targetTables } from '../adapters/restore-runtime';
import { parseEnv, startRestoreEnv } from '../env';
import { run } from './run';

/** Console: `{"cluster": "shop", "to": "latest", "targetPrefix": "restored-"}`. */
async function startRestore(event: unknown) {
  const env = parseEnv(startRestoreEnv, process.env);
  return run(event, {
    catalog: catalogFor(env.CATALOG_TABLE_NAME),
    logCatalog: logCatalogFor(env.CATALOG_TABLE_NAME),
    restoreCatalog: restoreCatalogFor(env.CATALOG_TABLE_NAME),
    tables: targetTables(),
    executions: new SfnRestoreExecutions(awsClients().sfn, env.RESTORE_STATE_MACHINE_ARN),
    now: nowMicros,
    config: { skewMarginMicros: env.SKEW_MARGIN_MS * 1000 },
  });
}

export const handler = middy(startRestore).use(injectLambdaContext(logger));
