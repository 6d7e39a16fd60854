import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { FORMAT_PREFIX } from '../../functions/core/keys';
import { failSnapshotSpec } from '../../functions/fail-snapshot/spec';
import { finalizeSnapshotSpec } from '../../functions/finalize-snapshot/spec';
import { prepareSnapshotSpec } from '../../functions/prepare-snapshot/spec';
import { scanSegmentSpec } from '../../functions/scan-segment/spec';
import { snapshotTaskSpecs, substitutionsFor } from '../../functions/specs';
import { startBackupSpec } from '../../functions/start-backup/spec';
import { acknowledgeBackupAccess } from '../nag';
import { aslStateMachine } from './asl-state-machine';
import type { BackupStore } from './backup-store';
import { specFunction } from './node-function';

/** The ASL file CDK deploys and the local runner executes (docs/design.md §7). */
export const SNAPSHOT_DEFINITION = 'statemachines/snapshot.asl.json';

export interface SnapshotPipelineProps {
  store: BackupStore;
  /** Path of the snapshot ASL file, relative to the repository root. Default `statemachines/snapshot.asl.json`. */
  definitionPath?: string;
  /** Segment sizing and parallelism (prepare-snapshot environment). */
  tuning?: Pick<
    z.input<typeof prepareSnapshotSpec.env>,
    'SEGMENT_TARGET_BYTES' | 'MIN_SEGMENTS' | 'MAX_SEGMENTS' | 'MAP_MAX_CONCURRENCY'
  >;
  /** The stack's clock-skew margin (ms, functions/env.ts `skewMargin`); unset: the schema's default. */
  skewMarginMs?: number;
}

/**
 * The snapshot backup pipeline: the Lambda functions of `snapshotTaskSpecs` and start-backup
 * (functions/specs.ts), and the "snapshot" state machine deployed from
 * the shared ASL file with each `${…FunctionArn}` substitution resolved to its function.
 *
 * Access to source tables is granted per protected cluster (`grantProtectedTables`), so every
 * DynamoDB permission on a source table names that table.
 */
export class SnapshotPipeline extends Construct {
  readonly prepareSnapshot: NodejsFunction;
  readonly scanSegment: NodejsFunction;
  readonly finalizeSnapshot: NodejsFunction;
  readonly failSnapshot: NodejsFunction;
  readonly startBackup: NodejsFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: SnapshotPipelineProps) {
    super(scope, id);
    const { bucket, key, catalog } = props.store;
    const _stack = Stack.of(this);
    const storage = { CATALOG_TABLE_NAME: catalog.tableName, BUCKET_NAME: bucket.bucketName };

    this.prepareSnapshot = specFunction(this, 'PrepareSnapshot', prepareSnapshotSpec, {
      ...storage,
      ...props.tuning,
    });
    this.scanSegment = specFunction(this, 'ScanSegment', scanSegmentSpec, storage);
    this.finalizeSnapshot = specFunction(this, 'FinalizeSnapshot', finalizeSnapshotSpec, {
      ...storage,
      SKEW_MARGIN_MS: props.skewMarginMs,
    });
    this.failSnapshot = specFunction(this, 'FailSnapshot', failSnapshotSpec, storage);

    const functions: Record<string, NodejsFunction> = {
      'prepare-snapshot': this.prepareSnapshot,
      'scan-segment': this.scanSegment,
      'finalize-snapshot': this.finalizeSnapshot,
      'fail-snapshot': this.failSnapshot,
    };
    ({ stateMachine: this.stateMachine, stateMachineName: this.stateMachineName } = aslStateMachine(this, {
      nameSuffix: 'snapshot',
      description: 'Rewind snapshot state machine',
      definitionPath: props.definitionPath ?? SNAPSHOT_DEFINITION,
      functions: substitutionsFor(snapshotTaskSpecs, functions).map(({ substitution, value }) => ({
        substitution,
        fn: value,
      })),
      timeout: Duration.hours(24),
    }));

    this.startBackup = specFunction(this, 'StartBackup', startBackupSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      SNAPSHOT_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
    });
    // EventBridge Scheduler invokes Lambda asynchronously: its retry policy covers delivery only;
    // a failed run is retried by Lambda's own async retries, bounded here: a start more than an
    // hour late is dropped (visible in the function's Errors metric) and the next run follows.
    this.startBackup.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });

    // Least privilege, per function. Source-table permissions come from grantProtectedTables.
    catalog.grantReadWriteData(this.prepareSnapshot);

    bucket.grantPut(this.scanSegment, `${FORMAT_PREFIX}/*`);
    // Multipart uploads to an SSE-KMS bucket need kms:Decrypt besides kms:GenerateDataKey.
    key.grantEncryptDecrypt(this.scanSegment);

    // Read part reports and chunks, write the manifest, delete stale chunks; includes the key.
    bucket.grantReadWrite(this.finalizeSnapshot);
    catalog.grantReadWriteData(this.finalizeSnapshot);

    catalog.grantReadWriteData(this.failSnapshot);
    this.failSnapshot.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    bucket.grantDelete(this.failSnapshot);

    catalog.grantReadWriteData(this.startBackup);
    this.stateMachine.grantStartExecution(this.startBackup);
    for (const fn of [this.scanSegment, this.finalizeSnapshot, this.failSnapshot]) {
      acknowledgeBackupAccess(fn, bucket.bucketArn);
    }
  }

  /**
   * Let the pipeline read the tables of a protected cluster: prepare-snapshot sizes them
   * (DescribeTable), scan-segment scans them, finalize-snapshot records their schema and TTL.
   * Tables encrypted with a customer-managed key also need kms:Decrypt for the scan.
   */
  grantProtectedTables(tables: dynamodb.ITable[]): void {
    if (tables.length === 0) return;
    const arns = tables.map((table) => table.tableArn);
    this.prepareSnapshot.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: arns }),
    );
    this.scanSegment.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: arns }),
    );
    this.finalizeSnapshot.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'],
        resources: arns,
      }),
    );
    for (const table of tables) table.encryptionKey?.grantDecrypt(this.scanSegment);
  }
}
