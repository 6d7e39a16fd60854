import { type App, CrossStackReferences, type Environment, ReferenceStrength } from 'aws-cdk-lib';
import { REPLICA_STACK_SUFFIX, type RewindConfig } from './config';
import { RewindReplicaStack } from './replica-stack';
import { catalogTableNameFor, RewindStack } from './rewind-stack';

export interface RewindStacks {
  main: RewindStack;
  /** With `replicaRegion`: the second region's stack (deployed first). */
  replica?: RewindReplicaStack;
}

export interface StackOptions {
  /** CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION (set by the CDK CLI when it has credentials). */
  account?: string;
  region?: string;
  /** ASL paths relative to the repository root (tests). */
  snapshotDefinitionPath?: string;
  restoreDefinitionPath?: string;
}

/**
 * The app's stacks from a validated config. Without `replicaRegion`, one environment-agnostic
 * `RewindStack` (or in `region`, or in CDK_DEFAULT_ACCOUNT/REGION when both are set), exactly as
 * before dual-region existed. With it, also a `RewindReplicaStack` named `<stackName>-replica` in
 * `replicaRegion`, deployed before the main stack (`addStackDependency`); the main stack reads the
 * replica bucket and key through weak cross-region references (see cdk/replica-stack.ts for why),
 * and `region` is required (cdk/config.ts).
 */
export function createStacks(app: App, config: RewindConfig, options: StackOptions = {}): RewindStacks {
  const { account } = options;
  const env: Environment | undefined = config.region
    ? { account, region: config.region }
    : account && options.region
      ? { account, region: options.region }
      : undefined;
  const common = {
    clusters: config.clusters,
    bucket: config.bucket,
    alarms: config.alarms,
    margins: config.margins,
    snapshotDefinitionPath: options.snapshotDefinitionPath,
    restoreDefinitionPath: options.restoreDefinitionPath,
  };
  if (!config.replicaRegion || !config.region) {
    return { main: new RewindStack(app, config.stackName, { env, ...common }) };
  }

  // Weak cross-stack references: `Fn::GetStackOutput` across regions instead of CDK's
  // ExportWriter/ExportReader custom resources (see cdk/replica-stack.ts). Set on the app before
  // any stack exists (context cannot change once a scope has children).
  CrossStackReferences.of(app).consume(ReferenceStrength.WEAK);
  const catalogTableName = catalogTableNameFor(config.stackName);
  const replicaName = `${config.stackName}${REPLICA_STACK_SUFFIX}`;
  const replica = new RewindReplicaStack(app, replicaName, {
    env: { account, region: config.replicaRegion },
    crossRegionReferences: true,
    primaryRegion: config.region,
    catalogTableName,
    bucket: config.bucket,
    protectedTables: config.clusters.flatMap((cluster) => cluster.tables),
    restoreDefinitionPath: options.restoreDefinitionPath,
    margins: config.margins,
  });
  const main = new RewindStack(app, config.stackName, {
    env,
    crossRegionReferences: true,
    ...common,
    catalogTableName,
    replica: { region: config.replicaRegion, bucket: replica.bucket, key: replica.key },
  });
  main.addStackDependency(replica, 'S3 replication destination and key');
  return { main, replica };
}
