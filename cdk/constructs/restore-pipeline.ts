import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { restoreCreateTablesSpec } from '../../functions/restore-create-tables/spec';
import { restoreFailSpec } from '../../functions/restore-fail/spec';
import { restoreLoadSpec } from '../../functions/restore-load/spec';
import { restorePlanReplaySpec } from '../../functions/restore-plan-replay/spec';
import { restoreReplaySpec } from '../../functions/restore-replay/spec';
import { restoreResumeSpec } from '../../functions/restore-resume/spec';
import { restoreVerifySpec } from '../../functions/restore-verify/spec';
import { restoreTaskSpecs, substitutionsFor } from '../../functions/specs';
import { startRestoreSpec } from '../../functions/start-restore/spec';
import { acknowledge, acknowledgeBackupAccess, EVIDENCE, nagText, wildcardResource } from '../nag';
import { aslStateMachine } from './asl-state-machine';
import { specFunction } from './node-function';

/** The ASL file CDK deploys and the local runner executes. */
export const RESTORE_DEFINITION = 'statemachines/restore.asl.json';

/**
 * DynamoDB actions that change a table or its data. Restore functions are denied all of them on
 * the protected source tables (docs/design.md §3.8: a restore never touches its source).
 */
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:CreateTable',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:ImportTable',
  'dynamodb:RestoreTableToPointInTime',
  'dynamodb:RestoreTableFromBackup',
];

/**
 * What restore reads and writes: a `BackupStore`, or in the replica stack the replica bucket
 * (with its key) and the catalog's global-table replica imported by name.
 */
export interface RestoreStore {
  /** Manifests, snapshot chunks, log segments; `grantRead` must cover the bucket's KMS key. */
  bucket: s3.IBucket;
  catalog: dynamodb.ITable;
}

export interface RestorePipelineProps {
  store: RestoreStore;
  /** Path of the restore ASL file, relative to the repository root. Default `statemachines/restore.asl.json`. */
  definitionPath?: string;
  /** The stack's clock-skew margin (ms): the snapshot pipeline's (a snapshot's log window starts at startTs minus it). */
  skewMarginMs?: number;
  tuning?: {
    createTables?: Pick<
      z.input<typeof restoreCreateTablesSpec.env>,
      'MAP_MAX_CONCURRENCY' | 'WARM_WRITES_PER_SECOND'
    >;
    planReplay?: Pick<
      z.input<typeof restorePlanReplaySpec.env>,
      'MAP_MAX_CONCURRENCY' | 'TARGET_RECORDS_PER_PARTITION' | 'MAX_PARTITIONS'
    >;
    writeConcurrency?: number;
  };
}

/**
 * Point-in-time restore (docs/design.md §3, §8): the functions of `restoreTaskSpecs`, start-restore
 * and restore-resume (functions/specs.ts), and the "restore" state machine deployed from the shared
 * ASL file with each `${…FunctionArn}` substitution resolved to its function.
 *
 * Restores create new tables whose names the caller chooses (a target prefix), so table
 * permissions cover `table/*`; writes to every protected source table are explicitly denied
 * (`denySourceTables`, called per protected cluster).
 */
export class RestorePipeline extends Construct {
  readonly createTables: NodejsFunction;
  readonly load: NodejsFunction;
  readonly planReplay: NodejsFunction;
  readonly replay: NodejsFunction;
  readonly verify: NodejsFunction;
  readonly fail: NodejsFunction;
  readonly startRestore: NodejsFunction;
  readonly resumeRestore: NodejsFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: RestorePipelineProps) {
    super(scope, id);
    const { bucket, catalog } = props.store;
    const stack = Stack.of(this);
    const storage = { CATALOG_TABLE_NAME: catalog.tableName, BUCKET_NAME: bucket.bucketName };
    const tuning = props.tuning ?? {};
    const writes = { WRITE_CONCURRENCY: tuning.writeConcurrency };

    this.createTables = specFunction(this, 'CreateTables', restoreCreateTablesSpec, {
      ...storage,
      ...tuning.createTables,
    });
    this.load = specFunction(this, 'Load', restoreLoadSpec, { ...storage, ...writes });
    this.planReplay = specFunction(this, 'PlanReplay', restorePlanReplaySpec, {
      ...storage,
      ...tuning.planReplay,
    });
    this.replay = specFunction(this, 'Replay', restoreReplaySpec, { ...storage, ...writes });
    this.verify = specFunction(this, 'Verify', restoreVerifySpec, storage);
    this.fail = specFunction(this, 'Fail', restoreFailSpec, { CATALOG_TABLE_NAME: catalog.tableName });

    const functions: Record<string, NodejsFunction> = {
      'restore-create-tables': this.createTables,
      'restore-load': this.load,
      'restore-plan-replay': this.planReplay,
      'restore-replay': this.replay,
      'restore-verify': this.verify,
      'restore-fail': this.fail,
    };
    const machine = aslStateMachine(this, {
      nameSuffix: 'restore',
      description: 'Rewind restore state machine',
      definitionPath: props.definitionPath ?? RESTORE_DEFINITION,
      functions: substitutionsFor(restoreTaskSpecs, functions).map(({ substitution, value }) => ({
        substitution,
        fn: value,
      })),
      timeout: Duration.hours(48),
    });
    this.stateMachine = machine.stateMachine;
    this.stateMachineName = machine.stateMachineName;

    this.startRestore = specFunction(this, 'StartRestore', startRestoreSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      RESTORE_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
      SKEW_MARGIN_MS: props.skewMarginMs,
    });
    this.resumeRestore = specFunction(this, 'ResumeRestore', restoreResumeSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      RESTORE_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
    });

    // Least privilege, per function.
    const allTables = stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: '*' });
    for (const fn of [...Object.values(functions), this.startRestore, this.resumeRestore]) {
      catalog.grantReadWriteData(fn);
    }
    // Manifests, snapshot chunks and log segments: read only (grantRead includes kms:Decrypt).
    for (const fn of [this.createTables, this.load, this.planReplay, this.replay, this.verify]) {
      bucket.grantRead(fn);
      acknowledgeBackupAccess(fn, bucket.bucketArn);
    }
    // Target table names come from each restore request (and a rename map), so they are not
    // known at synth time: `table/*`, with writes to the protected source tables denied.
    for (const fn of [this.createTables, this.load, this.replay, this.verify]) {
      acknowledge(
        fn.role ?? fn,
        wildcardResource(nagText(fn, allTables)),
        'Restore creates and writes new tables whose names come from the restore request (start-restore input: target names or a suffix), so no table name is known at synth time; every write to the protected source tables is explicitly denied (denySourceTables).',
      );
    }

    this.createTables.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateTargetTables',
        actions: [
          'dynamodb:CreateTable',
          'dynamodb:DescribeTable',
          'dynamodb:DescribeTimeToLive',
          'dynamodb:UpdateTimeToLive',
          // isEmpty: a one-item Scan of an existing target table.
          'dynamodb:Scan',
        ],
        resources: [allTables],
      }),
    );
    for (const fn of [this.load, this.replay]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'WriteTargetTables',
          actions: ['dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'],
          resources: [allTables],
        }),
      );
    }
    this.verify.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [allTables] }),
    );
    this.verify.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CountTargetTables',
        actions: ['dynamodb:Scan'],
        resources: [allTables],
        conditions: { StringEquals: { 'dynamodb:Select': 'COUNT' } },
      }),
    );

    // Only the restore state machine; DescribeExecution for the start/resume race checks.
    this.stateMachine.grantStartExecution(this.startRestore);
    this.stateMachine.grantStartExecution(this.resumeRestore);
    for (const fn of [this.startRestore, this.resumeRestore]) {
      acknowledge(
        fn.role ?? fn,
        wildcardResource(nagText(fn, machine.executionArn(':*'))),
        EVIDENCE.executions,
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: [machine.executionArn(':*')],
        }),
      );
    }
  }

  /** Deny every restore function any write to these (protected source) tables. */
  denySourceTables(tables: dynamodb.ITable[]): void {
    if (tables.length === 0) return;
    const arns = tables.flatMap((table) => [table.tableArn, `${table.tableArn}/*`]);
    for (const fn of [
      this.createTables,
      this.load,
      this.planReplay,
      this.replay,
      this.verify,
      this.fail,
      this.startRestore,
      this.resumeRestore,
    ]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: TABLE_WRITE_ACTIONS,
          resources: arns,
        }),
      );
    }
  }
}
