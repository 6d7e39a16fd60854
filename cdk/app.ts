import { App } from 'aws-cdk-lib';
import { loadConfig } from './config';
import { RewindStack } from './rewind-stack';

/**
 * CDK app entry (`cdk.json`: `npx tsx cdk/app.ts`). Clusters come from context, first match:
 *   -c config=path/to/rewind.config.json    a JSON file (relative to the working directory)
 *   context "rewind": { "clusters": [...] }  in cdk.json / cdk.context.json, or -c rewind='{…}'
 *   ./rewind.config.json                     if present
 *   otherwise no clusters (bucket, catalog and pipeline only)
 * The format is documented in cdk/config.ts. The stack is environment-agnostic unless
 * CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION are set (the CLI sets them when it has credentials),
 * so `cdk synth` works offline without credentials. Run the CLI with CDK_DISABLE_CLI_TELEMETRY=true
 * (the app cannot switch the CLI's telemetry off).
 */

const app = new App();
const config = loadConfig({
  configPath: app.node.tryGetContext('config'),
  inline: app.node.tryGetContext('rewind'),
  cwd: process.cwd(),
});

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new RewindStack(app, config.stackName, {
  env: account && region ? { account, region } : undefined,
  clusters: config.clusters,
  bucket: config.bucket,
});

app.synth();
