import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { RewindConfig } from './config';
import { backupBucketProps, serverAccessLogs } from './constructs/backup-store';
import { ExecutionWatch } from './constructs/execution-watch';
import { RestorePipeline } from './constructs/restore-pipeline';

export interface RewindReplicaStackProps extends StackProps {
  /** The main stack's region (where backups are written). */
  primaryRegion: string;
  /** The catalog's physical name: the main stack's global table has a replica of that name here. */
  catalogTableName: string;
  /** The primary bucket's settings, mirrored: Object Lock and noncurrent-version expiry. */
  bucket?: Partial<RewindConfig['bucket']>;
  /**
   * Every protected table (name or ARN). Restore functions here are denied writes to the tables
   * of those names in this region (a protected table may be a global table with a replica here).
   */
  protectedTables: string[];
  /** Restore ASL path relative to the repository root (tests); default statemachines/restore.asl.json. */
  restoreDefinitionPath?: string;
  /** The deployment's time margins (cdk/config.ts): the same skew margin as the main stack. */
  margins?: RewindConfig['margins'];
}

/** A protected table's name, from a name or a table ARN. */
const tableNameOf = (table: string) =>
  table.startsWith('arn:') ? table.slice(table.indexOf('/') + 1) : table;

/**
 * Dual-region backup, second region (docs/design.md §2: "S3 CRR (RTC) ► replica bucket in region 2;
 * catalog global-table replica"). Deployed before the main stack, which replicates to it:
 *
 * - the replica bucket: versioned (replication requires it on both sides), SSE-KMS with this
 *   region's own customer key, TLS only, public access blocked, Object Lock and noncurrent-version
 *   expiry mirroring the primary (`backupLifecycleRules`: the replicated delete markers of the
 *   retention sweep expire here as they do there). No Bucket Key: replicas are encrypted with
 *   `kms:Encrypt` per object, the permission AWS documents for the replication role;
 * - the restore pipeline (cdk/constructs/restore-pipeline.ts) reading the replica bucket and the
 *   catalog's global-table replica, so a restore runs here when the primary region is down:
 *   `rewind restore start --stack <name>-replica --region <replicaRegion> …`.
 *
 * How the main stack finds the bucket and key: CDK cross-region references
 * (`crossRegionReferences: true` on both stacks) made *weak* (cdk/stacks.ts), which CloudFormation
 * resolves with `Fn::GetStackOutput` from this stack's outputs at deploy time — no custom resource,
 * no export lock. Why not a deterministic bucket name instead: it would cover the bucket, but a KMS
 * key ARN embeds a generated key id and the replication rule must name the replica key by ARN (AWS
 * advises against an alias), so a reference is needed anyway; one mechanism for both. Weak means
 * CloudFormation does not stop this stack from replacing them: both are retained and never
 * replaced by Rewind; after changing either, redeploy the main stack. The catalog goes the other
 * way (the main stack owns the global table and deploys after this one), so its name is fixed
 * (`<stackName>-catalog`) and imported here by name.
 *
 * Outputs (the CLI's contract, as for the main stack): `ReplicaBucketName` and `BucketName` (the
 * same bucket: the CLI opens `BucketName`), `CatalogTableName`, `RestoreStateMachineArn`,
 * `StartRestoreFunctionName`.
 */
export class RewindReplicaStack extends Stack {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly catalog: dynamodb.ITableV2;
  readonly restore: RestorePipeline;
  readonly executions: ExecutionWatch;

  constructor(scope: Construct, id: string, props: RewindReplicaStackProps) {
    super(scope, id, props);
    this.templateOptions.description = `Rewind replica: backup copies from ${props.primaryRegion} and restore in this region`;

    this.key = new kms.Key(this, 'ReplicaKey', {
      description: `Rewind backups (${this.stackName}): S3 replicas from ${props.primaryRegion}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const lock = props.bucket?.objectLock;
    this.bucket = new s3.Bucket(this, 'ReplicaBucket', {
      ...backupBucketProps(this.key, lock, props.bucket?.noncurrentVersionDays),
      // Off: replicas are written with kms:Encrypt only (docs/aws-fidelity.md item 23).
      bucketKeyEnabled: false,
    });
    serverAccessLogs(this, 'ReplicaAccessLogs', this.bucket, 'replica-bucket/');

    this.catalog = dynamodb.TableV2.fromTableName(this, 'Catalog', props.catalogTableName);
    this.restore = new RestorePipeline(this, 'Restore', {
      store: { bucket: this.bucket, catalog: this.catalog },
      definitionPath: props.restoreDefinitionPath,
      skewMarginMs: props.margins?.skewMs,
    });
    this.executions = new ExecutionWatch(this, 'Executions', {
      catalog: this.catalog,
      stateMachines: [this.restore.stateMachine],
    });
    const protectedNames = [...new Set(props.protectedTables.map(tableNameOf))];
    this.restore.denySourceTables(
      protectedNames.map((name, index) => dynamodb.TableV2.fromTableName(this, `Protected${index}`, name)),
    );

    new CfnOutput(this, 'ReplicaBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'CatalogTableName', { value: props.catalogTableName });
    new CfnOutput(this, 'RestoreStateMachineArn', { value: this.restore.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StartRestoreFunctionName', { value: this.restore.startRestore.functionName });
    new CfnOutput(this, 'ResumeRestoreFunctionName', { value: this.restore.resumeRestore.functionName });
  }
}
