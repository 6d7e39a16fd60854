import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { fromRoot, repoRoot } from '../paths';

export interface FunctionSpec {
  name: string;
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
}

/** A Rewind Lambda function (Node 22, arm64, ESM bundle, X-Ray) with its own log group. */
export function nodeFunction(scope: Construct, id: string, spec: FunctionSpec): NodejsFunction {
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
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      minify: true,
      sourceMap: true,
      // Line mapping only: keeps the sources out of the deployment package.
      sourcesContent: false,
      mainFields: ['module', 'main'],
      // Bundle the SDK: pin the version we test with instead of the runtime's.
      bundleAwsSDK: true,
      // CommonJS dependencies inside an ESM bundle still call require().
      banner:
        "import { createRequire as __rewindCreateRequire } from 'node:module'; const require = __rewindCreateRequire(import.meta.url);",
      forceDockerBundling: false,
      logLevel: LogLevel.WARNING,
    },
  });
}
