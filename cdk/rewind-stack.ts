import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ClusterConfig, RewindConfig } from './config';
import { BackupStore } from './constructs/backup-store';
import { ExecutionWatch } from './constructs/execution-watch';
import { LogBackup } from './constructs/log-backup';
import { Monitoring } from './constructs/monitoring';
import { ProtectedCluster } from './constructs/protected-cluster';
import type { ReplicaTarget } from './constructs/replication';
import { RestorePipeline } from './constructs/restore-pipeline';
import { RetentionSweep } from './constructs/retention-sweep';
import { SnapshotPipeline } from './constructs/snapshot-pipeline';

/** The catalog's physical name (the replica stack, with dual-region backup, names its replica by it). */
export const catalogTableNameFor = (stackName: string) => `${stackName}-catalog`;

export interface RewindStackProps extends StackProps {
  /** The protected clusters (see cdk/config.ts). */
  clusters: ClusterConfig[];
  bucket?: Partial<RewindConfig['bucket']>;
  /** CloudWatch alarms (thresholds, e-mail); defaults as in cdk/config.ts. */
  alarms?: Partial<RewindConfig['alarms']>;
  /** Dual-region backup: the replica stack's bucket and key (see cdk/stacks.ts). Off by default. */
  replica?: ReplicaTarget;
  /** The stack's time margins (cdk/config.ts), passed to every construct whose functions use them. */
  margins?: RewindConfig['margins'];
  /** The catalog's physical name; default `<stackName>-catalog`. */
  catalogTableName?: string;
  /** Snapshot ASL path relative to the repository root (tests); default statemachines/snapshot.asl.json. */
  snapshotDefinitionPath?: string;
  /** Restore ASL path relative to the repository root (tests); default statemachines/restore.asl.json. */
  restoreDefinitionPath?: string;
}

/**
 * Rewind: the backup store (bucket, key, catalog), the snapshot pipeline, log backup, restore,
 * retention (sweep and delete-backup), and one ProtectedCluster (with its log stream and its
 * backup and sweep schedules) per configured cluster. The outputs are read by the CLI: their ids
 * are a contract.
 */
export class RewindStack extends Stack {
  readonly store: BackupStore;
  readonly pipeline: SnapshotPipeline;
  readonly log: LogBackup;
  readonly restore: RestorePipeline;
  readonly retention: RetentionSweep;
  readonly clusters: ProtectedCluster[];
  readonly monitoring: Monitoring;
  readonly executions: ExecutionWatch;

  constructor(scope: Construct, id: string, props: RewindStackProps) {
    super(scope, id, props);
    this.templateOptions.description = 'Rewind: backup and point-in-time restore for DynamoDB clusters';

    this.store = new BackupStore(this, 'Store', {
      objectLock: props.bucket?.objectLock,
      noncurrentVersionDays: props.bucket?.noncurrentVersionDays,
      replica: props.replica,
      // Always a fixed name, with or without a replica: turning dual-region on later adds a
      // replica to this table instead of replacing it with an empty, renamed one.
      catalogTableName: props.catalogTableName ?? catalogTableNameFor(this.stackName),
    });
    const skewMarginMs = props.margins?.skewMs;
    this.pipeline = new SnapshotPipeline(this, 'Snapshot', {
      store: this.store,
      skewMarginMs,
      definitionPath: props.snapshotDefinitionPath,
    });
    this.log = new LogBackup(this, 'Log', {
      store: this.store,
      propagationMarginMs: props.margins?.propagationMs,
    });
    this.restore = new RestorePipeline(this, 'Restore', {
      store: this.store,
      skewMarginMs,
      definitionPath: props.restoreDefinitionPath,
    });
    this.retention = new RetentionSweep(this, 'Retention', { store: this.store, skewMarginMs });
    this.executions = new ExecutionWatch(this, 'Executions', {
      catalog: this.store.catalog,
      stateMachines: [this.pipeline.stateMachine, this.restore.stateMachine],
    });
    this.clusters = props.clusters.map(
      (cluster) =>
        new ProtectedCluster(this, `Cluster-${cluster.name}`, {
          clusterName: cluster.name,
          tables: cluster.tables,
          schedule: cluster.schedule,
          retentionDays: cluster.retentionDays,
          retentionSweep: cluster.retentionSweep,
          store: this.store,
          pipeline: this.pipeline,
          log: this.log,
          restore: this.restore,
          sweep: this.retention,
        }),
    );

    this.monitoring = new Monitoring(this, 'Monitoring', {
      clusters: props.clusters.map((cluster) => ({
        name: cluster.name,
        schedule: cluster.schedule,
        logBackup: true,
      })),
      snapshotStateMachine: this.pipeline.stateMachine,
      restoreStateMachine: this.restore.stateMachine,
      // Console-facing functions (start-backup, start-restore, delete-backup) are left out: a
      // mistyped console event is not an incident; a missed scheduled backup alarms as "missing".
      backgroundFunctions: [
        this.retention.sweepRetention,
        this.log.recordGap,
        this.log.advanceCheckpoint,
        this.executions.executionEnded,
      ],
      shipLog: this.log.shipLog,
      gapQueue: this.log.gapQueue,
      rpoAlarmSeconds: props.alarms?.rpoSeconds,
      backupSlackHours: props.alarms?.backupSlackHours,
      alarmEmail: props.alarms?.email,
    });

    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName });
    new CfnOutput(this, 'CatalogTableName', { value: this.store.catalog.tableName });
    new CfnOutput(this, 'SnapshotStateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StartBackupFunctionName', { value: this.pipeline.startBackup.functionName });
    new CfnOutput(this, 'RestoreStateMachineArn', { value: this.restore.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StartRestoreFunctionName', { value: this.restore.startRestore.functionName });
    new CfnOutput(this, 'ResumeRestoreFunctionName', { value: this.restore.resumeRestore.functionName });
    new CfnOutput(this, 'SweepRetentionFunctionName', { value: this.retention.sweepRetention.functionName });
    new CfnOutput(this, 'DeleteBackupFunctionName', { value: this.retention.deleteBackup.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}
