import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { type FunctionSpec, invokeSpec } from '../spec';
import { awsClients, logger, metrics } from './lambda-runtime';

/**
 * The Lambda handler of a function spec: `export const handler = lambdaHandler(spec)`. The
 * environment is `process.env`; the clients are created on first use and kept by the container.
 */
export function lambdaHandler<Env extends z.ZodObject, Deps, Result>(spec: FunctionSpec<Env, Deps, Result>) {
  const invoke = (event: unknown, context: Context) =>
    invokeSpec(
      spec,
      event,
      process.env,
      { clients: awsClients(), remainingMs: () => context.getRemainingTimeInMillis() },
      { logger, metrics },
    );
  return middy(invoke).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
