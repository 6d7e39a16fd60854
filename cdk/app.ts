import { App } from 'aws-cdk-lib';
import { loadConfig } from './config';
import { createStacks } from './stacks';

/**
 * CDK app entry (`cdk.json`: `npx tsx cdk/app.ts`). Clusters come from context, first match:
 *   -c config=path/to/rewind.config.json    a JSON file (relative to the working directory)
 *   context "rewind": { "clusters": [...] }  in cdk.json / cdk.context.json, or -c rewind='{…}'
 *   ./rewind.config.json                     if present
 *   otherwise no clusters (bucket, catalog and pipeline only)
 * The format is documented in cdk/config.ts. The stack is environment-agnostic unless the config
 * sets `region` or CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION are set (the CLI sets them when it has
 * credentials), so `cdk synth` works offline without credentials. With `replicaRegion` the app
 * also has the replica stack `<stackName>-replica` (cdk/stacks.ts), deployed first. Run the CLI
 * with CDK_DISABLE_CLI_TELEMETRY=true (the app cannot switch the CLI's telemetry off).
 */

const app = new App();
const config = loadConfig({
  configPath: app.node.tryGetContext('config'),
  inline: app.node.tryGetContext('rewind'),
  cwd: process.cwd(),
});

createStacks(app, config, {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});

app.synth();
