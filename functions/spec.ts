import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import { InvalidInputError } from './core/errors';

/**
 * One spec per function (docs/design.md §6): the only place its wiring lives. The Lambda
 * handler (`lambdaHandler(spec)`), the CDK construct (`nodeFunction(scope, id, spec, env)`, the
 * environment typed from `spec.env`) and the local cloud's registry are all derived from it, so
 * a default is written once: in the zod schema.
 */
export interface FunctionSpec<Env extends z.ZodObject = z.ZodObject, Deps = unknown, Result = unknown> {
  /** Function name, locally and (with the stack prefix) on AWS: `start-restore`. */
  name: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  description: string;
  /** The ASL definition substitution that carries this function's ARN, for state-machine tasks. */
  substitution?: string;
  /** Deployed memory (MB) and timeout (s); the local cloud enforces the same timeout. */
  memorySize: number;
  timeoutSeconds: number;
  /** The function's environment, with its defaults. */
  env: Env;
  /** How a parsed environment and the runtime's clients become `run`'s dependencies. */
  deps(env: z.infer<Env>, runtime: FunctionRuntime): Deps;
  run(event: unknown, deps: Deps): Promise<Result>;
  /**
   * What the invocation returns, after logging and metrics (default: the result itself).
   * Runs on AWS and locally alike.
   */
  respond?(result: Result, env: z.infer<Env>, telemetry: Telemetry): unknown;
}

/** The AWS clients a function may use: real ones on Lambda, emulator-bound ones locally. */
export interface FunctionClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  sfn: SFNClient;
  kinesis: KinesisClient;
}

export interface FunctionRuntime {
  clients: FunctionClients;
  /** Lambda's `context.getRemainingTimeInMillis()`. */
  remainingMs(): number;
}

export interface Telemetry {
  logger: Logger;
  metrics: Metrics;
}

/** Declare a function; the identity, with the types checked. */
export function defineFunction<Env extends z.ZodObject, Deps, Result>(
  spec: FunctionSpec<Env, Deps, Result>,
): FunctionSpec<Env, Deps, Result> {
  return spec;
}

/** Parse an environment; the error names the first bad variable. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'environment';
  throw new InvalidInputError(`environment variable ${field}`, issue?.message ?? 'a valid value');
}

/**
 * One invocation, the same on Lambda and locally: parse the environment, build the deps, run,
 * respond. Callers pass their clients and clock.
 */
export async function invokeSpec<Env extends z.ZodObject, Deps, Result>(
  spec: FunctionSpec<Env, Deps, Result>,
  event: unknown,
  environment: Record<string, string | undefined>,
  runtime: FunctionRuntime,
  telemetry: Telemetry,
): Promise<unknown> {
  const env = parseEnv(spec.env, environment);
  const result = await spec.run(event, spec.deps(env, runtime));
  return spec.respond ? spec.respond(result, env, telemetry) : result;
}
