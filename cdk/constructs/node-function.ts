import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import type { FunctionSpec as Spec } from '../../functions/spec';
import { cdkBundling, functionBundling } from '../bundling';
import { fromRoot, repoRoot } from '../paths';

/**
 * The Lambda function of a spec (functions/<name>/spec.ts): name, entry, memory, timeout and
 * description from the spec; `environment` typed from its zod schema and checked at synth time.
 */
export function specFunction<Env extends z.ZodObject>(
  scope: Construct,
  id: string,
  // biome-ignore lint/suspicious/noExplicitAny: deps and result do not matter to the construct
  spec: Spec<Env, any, any>,
  environment: z.input<Env>,
): NodejsFunction {
  return nodeFunction(scope, id, {
    name: spec.name,
    entry: spec.entry,
    description: spec.description,
    memorySize: spec.memorySize,
    timeout: Duration.seconds(spec.timeoutSeconds),
    environment: checkedEnvironment(spec.env, environment),
  });
}

/** The values as Lambda environment strings, after the schema accepted them. */
export function checkedEnvironment<S extends z.ZodObject>(
  schema: S,
  env: z.input<S>,
): Record<string, string> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`function environment ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env as Record<string, unknown>)) {
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

/** What `nodeFunction` needs: a spec's fields with the checked environment (see `specFunction`). */
export interface NodeFunctionProps {
  name: string;
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
}

/** A Rewind Lambda function (Node 22, arm64, ESM bundle, X-Ray) with its own log group. */
export function nodeFunction(scope: Construct, id: string, spec: NodeFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return new NodejsFunction(scope, id, {
    entry: fromRoot(spec.entry),
    handler: 'handler',
    projectRoot: repoRoot,
    depsLockFilePath: fromRoot('package-lock.json'),
    description: spec.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: spec.memorySize,
    timeout: spec.timeout,
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    environment: {
      ...spec.environment,
      POWERTOOLS_SERVICE_NAME: `rewind-${spec.name}`,
      POWERTOOLS_METRICS_NAMESPACE: 'Rewind',
      NODE_OPTIONS: '--enable-source-maps',
    },
    // One definition of the bundle (cdk/bundling.ts), shared with the local cloud's --bundled mode.
    bundling: cdkBundling(functionBundling),
  });
}
