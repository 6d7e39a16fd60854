import { Aws, Duration, Stack, TimeZone, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { InvalidInputError } from '../../functions/core/errors';
import { assertName } from '../../functions/core/keys';
import { assertTimeZone, toEventBridgeCron } from '../cron';
import type { BackupStore } from './backup-store';
import { ClusterLogStream, type LogBackup } from './log-backup';
import type { RestorePipeline } from './restore-pipeline';
import type { SnapshotPipeline } from './snapshot-pipeline';

export interface ClusterSchedule {
  /** 5-field crontab (`15 3 * * *`) or EventBridge cron (`cron(15 3 * * ? *)`); see cdk/cron.ts. */
  cron: string;
  /** IANA time zone the cron is evaluated in. Default `Etc/UTC`. */
  timeZone?: string;
}

export interface ProtectedClusterOptions {
  /** Create the schedule disabled (e.g. while migrating). Default true. */
  scheduleEnabled?: boolean;
  /** How many times EventBridge Scheduler retries a failed invocation of start-backup. Default 3. */
  scheduleRetryAttempts?: number;
  /** Give up retrying a scheduled start this long after its planned time. Default 1 hour. */
  scheduleMaxEventAge?: Duration;
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
  options?: ProtectedClusterOptions;
  store: BackupStore;
  pipeline: SnapshotPipeline;
  /** Log backup: the cluster gets a Kinesis stream shipped to S3 (needed for point-in-time restore). */
  log?: LogBackup;
  /** Restore: its functions are denied writes to this cluster's tables. */
  restore?: RestorePipeline;
}

/** The catalog key of a cluster's config item (DESIGN.md §5). */
export const clusterItemKey = (clusterName: string) => ({ pk: `CLUSTER#${clusterName}`, sk: 'CLUSTER' });

type AttributeValue = { S: string } | { N: string } | { L: AttributeValue[] };

/**
 * A cluster: a named set of DynamoDB tables protected as one unit. It registers the cluster in
 * the catalog, lets the snapshot pipeline read exactly these tables, and (with `schedule`)
 * starts automatic backups from EventBridge Scheduler.
 */
export class ProtectedCluster extends Construct {
  readonly clusterName: string;
  readonly tables: dynamodb.ITable[];
  readonly schedule?: scheduler.Schedule;
  readonly scheduleRole?: iam.Role;
  readonly logStream?: ClusterLogStream;

  constructor(scope: Construct, id: string, props: ProtectedClusterProps) {
    super(scope, id);
    assertName('cluster name', props.clusterName);
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

    let expression: string | undefined;
    let timeZone: string | undefined;
    if (props.schedule) {
      expression = toEventBridgeCron(props.schedule.cron);
      timeZone = props.schedule.timeZone ?? 'Etc/UTC';
      assertTimeZone(timeZone);
    }

    this.registerInCatalog(props, retentionDays, timeZone);

    if (expression !== undefined && timeZone !== undefined) {
      const stack = Stack.of(this);
      const options = props.options ?? {};
      this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
        description: `Rewind: automatic backups of cluster ${this.clusterName}`,
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: {
            StringEquals: {
              'aws:SourceAccount': Aws.ACCOUNT_ID,
              'aws:SourceArn': stack.formatArn({
                service: 'scheduler',
                resource: 'schedule-group',
                resourceName: 'default',
              }),
            },
          },
        }),
      });
      // The target grants the role lambda:InvokeFunction on start-backup, and nothing else.
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        description: `Rewind: automatic snapshot backup of cluster ${this.clusterName}`,
        schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.of(timeZone)),
        timeWindow: scheduler.TimeWindow.off(),
        enabled: options.scheduleEnabled ?? true,
        target: new targets.LambdaInvoke(props.pipeline.startBackup, {
          role: this.scheduleRole,
          input: scheduler.ScheduleTargetInput.fromObject({ cluster: this.clusterName, kind: 'auto' }),
          retryAttempts: options.scheduleRetryAttempts ?? 3,
          maxEventAge: options.scheduleMaxEventAge ?? Duration.hours(1),
        }),
      });
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
  }
}
