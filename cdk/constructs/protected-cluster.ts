import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { InvalidInputError } from '../../functions/core/errors';
import { assertClusterName, assertName } from '../../functions/core/keys';
import { acknowledgeCustomResourceProvider } from '../nag';
import type { BackupStore } from './backup-store';
import { type ClusterSchedule, lambdaSchedule, resolveSchedule } from './cluster-schedules';
import { ClusterLogStream, type LogBackup } from './log-backup';
import type { RestorePipeline } from './restore-pipeline';
import type { RetentionSweep } from './retention-sweep';
import type { SnapshotPipeline } from './snapshot-pipeline';

export type { ClusterSchedule } from './cluster-schedules';

/** When the retention sweep runs unless `retentionSweep.cron` says otherwise: daily at 03:00. */
export const DEFAULT_SWEEP_CRON = '0 3 * * *';

export interface ProtectedClusterOptions {
  /** Create the schedule disabled (e.g. while migrating). Default true. */
  scheduleEnabled?: boolean;
  /** How many times EventBridge Scheduler retries a failed invocation of start-backup. Default 3. */
  scheduleRetryAttempts?: number;
  /** Give up retrying a scheduled start this long after its planned time. Default 1 hour. */
  scheduleMaxEventAge?: Duration;
  /** Create the retention-sweep schedule disabled. Default true. */
  sweepEnabled?: boolean;
  /** Shards of the cluster's log stream (provisioned mode). Default: on-demand capacity. */
  logShardCount?: number;
}

export interface ProtectedClusterProps {
  /** Names the cluster in the catalog, in S3 keys and in CLI commands. [A-Za-z0-9_.-]{1,255}. */
  clusterName: string;
  /** The cluster's tables: constructs, table names or table ARNs (same account and region). */
  tables: (dynamodb.ITable | string)[];
  /** Automatic backups. Without it, the cluster is only backed up on demand. */
  schedule?: ClusterSchedule;
  /** Days automatic backups are kept. Default 7. */
  retentionDays?: number;
  /**
   * When the daily retention sweep runs. Default `0 3 * * *`, in the time zone of `schedule`
   * (else `Etc/UTC`); a `retentionSweep` without `timeZone` takes the same default zone.
   */
  retentionSweep?: ClusterSchedule;
  options?: ProtectedClusterOptions;
  store: BackupStore;
  pipeline: SnapshotPipeline;
  /** Log backup: the cluster gets a Kinesis stream shipped to S3 (needed for point-in-time restore). */
  log?: LogBackup;
  /** Restore: its functions are denied writes to this cluster's tables. */
  restore?: RestorePipeline;
  /**
   * Retention: a schedule of this cluster invokes the sweep daily with `confirm`. Without it,
   * nothing deletes this cluster's expired backups and log objects.
   */
  sweep?: RetentionSweep;
}

/** The catalog key of a cluster's config item (docs/design.md §5). */
export const clusterItemKey = (clusterName: string) => ({ pk: `CLUSTER#${clusterName}`, sk: 'CLUSTER' });

type AttributeValue = { S: string } | { N: string } | { L: AttributeValue[] };

/**
 * A cluster: a named set of DynamoDB tables protected as one unit. It registers the cluster in
 * the catalog, lets the snapshot pipeline read exactly these tables, (with `schedule`) starts
 * automatic backups from EventBridge Scheduler, and (with `sweep`) runs the retention sweep daily.
 */
export class ProtectedCluster extends Construct {
  readonly clusterName: string;
  readonly tables: dynamodb.ITable[];
  readonly schedule?: scheduler.Schedule;
  readonly scheduleRole?: iam.Role;
  readonly sweepSchedule?: scheduler.Schedule;
  readonly sweepScheduleRole?: iam.Role;
  readonly logStream?: ClusterLogStream;

  constructor(scope: Construct, id: string, props: ProtectedClusterProps) {
    super(scope, id);
    assertClusterName('cluster name', props.clusterName);
    if (props.tables.length === 0)
      throw new InvalidInputError('tables', `at least one table for cluster ${props.clusterName}`);
    const retentionDays = props.retentionDays ?? 7;
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new InvalidInputError('retentionDays', `a positive whole number of days, got ${retentionDays}`);

    this.clusterName = props.clusterName;
    this.tables = props.tables.map((table, index) => this.importTable(table, index));
    props.pipeline.grantProtectedTables(this.tables);
    props.restore?.denySourceTables(this.tables);
    if (props.log) {
      this.logStream = new ClusterLogStream(this, 'Log', {
        clusterName: this.clusterName,
        tables: props.tables,
        imported: this.tables,
        shardCount: props.options?.logShardCount,
        log: props.log,
      });
    }

    const backup = props.schedule && resolveSchedule('schedule', props.schedule);
    const sweepTimeZone = backup?.timeZone ?? 'Etc/UTC';
    const sweep = resolveSchedule(
      'retentionSweep',
      props.retentionSweep ?? { cron: DEFAULT_SWEEP_CRON },
      sweepTimeZone,
    );

    this.registerInCatalog(props, retentionDays, backup?.timeZone);

    const options = props.options ?? {};
    if (backup) {
      const created = lambdaSchedule(this, 'Schedule', {
        description: `Rewind: automatic snapshot backup of cluster ${this.clusterName}`,
        roleDescription: `Rewind: automatic backups of cluster ${this.clusterName}`,
        schedule: backup,
        target: props.pipeline.startBackup,
        // scheduledAt: the planned fire time, so a repeated delivery of one run starts one backup.
        input: {
          cluster: this.clusterName,
          kind: 'auto',
          scheduledAt: scheduler.ContextAttribute.scheduledTime,
        },
        enabled: options.scheduleEnabled,
        retryAttempts: options.scheduleRetryAttempts ?? 3,
        maxEventAge: options.scheduleMaxEventAge ?? Duration.hours(1),
      });
      this.schedule = created.schedule;
      this.scheduleRole = created.role;
    }
    if (props.sweep) {
      const created = lambdaSchedule(this, 'SweepSchedule', {
        description: `Rewind: daily retention sweep of cluster ${this.clusterName}`,
        roleDescription: `Rewind: retention sweeps of cluster ${this.clusterName}`,
        schedule: sweep,
        target: props.sweep.sweepRetention,
        input: { cluster: this.clusterName, confirm: true },
        enabled: options.sweepEnabled,
        // A sweep is idempotent; a run delivered hours late still does its job.
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      });
      this.sweepSchedule = created.schedule;
      this.sweepScheduleRole = created.role;
    }
  }

  private importTable(table: dynamodb.ITable | string, index: number): dynamodb.ITable {
    if (typeof table !== 'string') return table;
    if (table.startsWith('arn:')) return dynamodb.Table.fromTableArn(this, `Table${index}`, table);
    return dynamodb.Table.fromTableName(this, `Table${index}`, table);
  }

  /**
   * Writes the cluster's config item. Create puts the whole item; update sets only the config
   * attributes, so run-time state on the item (the running-backup lock, the log checkpoint)
   * survives a deploy; delete keeps the item (its backups stay restorable) and marks it REMOVED.
   */
  private registerInCatalog(
    props: ProtectedClusterProps,
    retentionDays: number,
    timeZone: string | undefined,
  ) {
    const catalog = props.store.catalog;
    const key = clusterItemKey(this.clusterName);
    const tableNames = this.tables.map((table) => table.tableName);
    for (const name of tableNames) if (!Token.isUnresolved(name)) assertName('table name', name);
    const now = new Date().toISOString();
    const S = (value: string): AttributeValue => ({ S: value });
    const config: Record<string, AttributeValue> = {
      schemaVersion: { N: String(CATALOG_SCHEMA_VERSION) },
      entity: S('cluster'),
      clusterName: S(this.clusterName),
      tables: { L: tableNames.map(S) },
      retentionDays: { N: String(retentionDays) },
    };
    if (props.schedule) {
      config.schedule = S(props.schedule.cron.trim());
      if (timeZone !== undefined) config.timeZone = S(timeZone);
    }
    const dynamoKey = { pk: S(key.pk), sk: S(key.sk) };

    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = { ':createdAt': S(now) };
    const sets: string[] = [];
    for (const [attribute, value] of Object.entries(config)) {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    }
    names['#createdAt'] = 'createdAt';
    sets.push('#createdAt = if_not_exists(#createdAt, :createdAt)');
    const removes = ['#status'];
    names['#status'] = 'status';
    for (const attribute of ['schedule', 'timeZone'] as const) {
      if (config[attribute] === undefined) {
        names[`#${attribute}`] = attribute;
        removes.push(`#${attribute}`);
      }
    }

    const physicalResourceId = cr.PhysicalResourceId.of(`${key.pk}|${key.sk}`);
    new cr.AwsCustomResource(this, 'CatalogItem', {
      resourceType: 'Custom::RewindCluster',
      installLatestAwsSdk: false,
      onCreate: {
        service: 'DynamoDB',
        action: 'PutItem',
        parameters: {
          TableName: catalog.tableName,
          Item: { ...dynamoKey, ...config, createdAt: S(now) },
        },
        physicalResourceId,
      },
      onUpdate: {
        service: 'DynamoDB',
        action: 'UpdateItem',
        parameters: {
          TableName: catalog.tableName,
          Key: dynamoKey,
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
        physicalResourceId,
      },
      onDelete: {
        service: 'DynamoDB',
        action: 'UpdateItem',
        parameters: {
          TableName: catalog.tableName,
          Key: dynamoKey,
          UpdateExpression: 'SET #status = :removed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':removed': S('REMOVED') },
        },
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [catalog.tableArn],
        }),
      ]),
    });
    acknowledgeCustomResourceProvider(this);
  }
}
