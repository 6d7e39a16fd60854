import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import type { FunctionSpec as Spec } from '../../functions/spec';
import { cdkBundling, functionBundling, LAMBDA_RUNTIME_NAME } from '../bundling';
import { acknowledge, EVIDENCE, wildcardResource } from '../nag';
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

/** The Lambda runtime of every function; the bundles' esbuild target follows it (cdk/bundling.ts). */
export const LAMBDA_RUNTIME = new lambda.Runtime(LAMBDA_RUNTIME_NAME, lambda.RuntimeFamily.NODEJS, {
  supportsInlineCode: true,
});

/**
 * A Rewind Lambda function (Node 24, arm64, ESM bundle, X-Ray) with its own log group and its
 * own role (`<id>Role`): instead of the managed AWSLambdaBasicExecutionRole (logs on every log
 * group of the account), the role may only create streams in and write to this function's log
 * group. CDK adds the X-Ray statement for Tracing.ACTIVE to the same role.
 */
export function nodeFunction(scope: Construct, id: string, spec: NodeFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Rewind ${spec.name}`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'OwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The log group's Arn attribute ends in `:*`, which covers its log streams.
      resources: [logGroup.logGroupArn],
    }),
  );
  acknowledge(role, wildcardResource('*'), EVIDENCE.xray);
  return new NodejsFunction(scope, id, {
    role,
    entry: fromRoot(spec.entry),
    handler: 'handler',
    projectRoot: repoRoot,
    depsLockFilePath: fromRoot('package-lock.json'),
    description: spec.description,
    runtime: LAMBDA_RUNTIME,
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
