import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { advanceCheckpointSpec } from '../../functions/advance-checkpoint/spec';
import { FORMAT_PREFIX } from '../../functions/core/keys';
import { logStreamName } from '../../functions/core/log-format';
import { recordGapSpec } from '../../functions/record-gap/spec';
import { shipLogSpec } from '../../functions/ship-log/spec';
import { acknowledgeBackupAccess, acknowledgeCustomResourceProvider } from '../nag';
import type { BackupStore } from './backup-store';
import { specFunction } from './node-function';

export interface LogBackupProps {
  store: BackupStore;
  /** The stack's propagation margin (ms, functions/env.ts `propagationMargin`); unset: the schema's default. */
  propagationMarginMs?: number;
  /** Attempts ship-log gets per batch (after bisecting) before it goes to the gap queue. Default 5. */
  retryAttempts?: number;
}

/** Kinesis event source settings of ship-log (docs/design.md §3.4); see docs/aws-fidelity.md. */
export const SHIP_LOG_EVENT_SOURCE = {
  batchSize: 1000,
  maxBatchingWindow: Duration.seconds(1),
  // REQUIRED: one batch per shard at a time, in order; the shard checkpoint depends on it.
  parallelizationFactor: 1,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  startingPosition: lambda.StartingPosition.TRIM_HORIZON,
} as const;

/**
 * Log backup, shared part (docs/design.md §3.4): ship-log (one function, one Kinesis event source per
 * protected cluster's stream), the on-failure queue and record-gap reading it, and
 * advance-checkpoint run every minute. Each cluster's stream comes from `ClusterLogStream`.
 */
export class LogBackup extends Construct {
  readonly shipLog: NodejsFunction;
  readonly recordGap: NodejsFunction;
  readonly advanceCheckpoint: NodejsFunction;
  /** On-failure destination of every ship-log event source: batches ship-log gave up on. */
  readonly gapQueue: sqs.Queue;
  /** Gap records record-gap failed to write 5 times (redrive policy of `gapQueue`). */
  readonly gapDeadLetterQueue: sqs.Queue;
  readonly advanceRule: events.Rule;
  private readonly retryAttempts: number;

  constructor(scope: Construct, id: string, props: LogBackupProps) {
    super(scope, id);
    const { bucket, key, catalog } = props.store;
    const margin = { PROPAGATION_MARGIN_MS: props.propagationMarginMs };
    this.retryAttempts = props.retryAttempts ?? 5;

    this.shipLog = specFunction(this, 'ShipLog', shipLogSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      BUCKET_NAME: bucket.bucketName,
      ...margin,
    });
    this.recordGap = specFunction(this, 'RecordGap', recordGapSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      ...margin,
    });
    this.advanceCheckpoint = specFunction(this, 'AdvanceCheckpoint', advanceCheckpointSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
      ...margin,
    });

    // A gap record record-gap cannot write after 5 receives (the catalog unavailable, a bad
    // message) moves here instead of expiring from the gap queue: nothing about a gap is lost.
    this.gapDeadLetterQueue = new sqs.Queue(this, 'GapDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.gapQueue = new sqs.Queue(this, 'GapQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Six times the consumer's timeout (the Lambda event source recommendation).
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: this.gapDeadLetterQueue, maxReceiveCount: 5 },
    });
    this.recordGap.addEventSource(
      new sources.SqsEventSource(this.gapQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    this.advanceRule = new events.Rule(this, 'AdvanceSchedule', {
      description: 'Rewind: advance log checkpoints',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventTargets.LambdaFunction(this.advanceCheckpoint, { retryAttempts: 0 })],
    });
    // A run that is still going when the next minute starts would only duplicate its work.
    this.advanceCheckpoint.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    // Least privilege. Kinesis read for ship-log comes with each event source.
    bucket.grantPut(this.shipLog, `${FORMAT_PREFIX}/*`);
    key.grantEncryptDecrypt(this.shipLog);
    acknowledgeBackupAccess(this.shipLog, bucket.bucketArn);
    catalog.grantReadWriteData(this.shipLog);
    catalog.grantReadWriteData(this.recordGap);
    catalog.grantReadWriteData(this.advanceCheckpoint);
  }

  /** Ship a cluster's stream: a ship-log event source, and advance-checkpoint reads its shards. */
  addStream(stream: kinesis.IStream): void {
    this.shipLog.addEventSource(
      new sources.KinesisEventSource(stream, {
        ...SHIP_LOG_EVENT_SOURCE,
        retryAttempts: this.retryAttempts,
        onFailure: new sources.SqsDlq(this.gapQueue),
      }),
    );
    this.advanceCheckpoint.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'kinesis:ListShards',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
          'kinesis:DescribeStreamSummary',
        ],
        resources: [stream.streamArn],
      }),
    );
    stream.encryptionKey?.grantDecrypt(this.advanceCheckpoint);
  }
}

export interface ClusterLogStreamProps {
  clusterName: string;
  /**
   * The cluster's tables. For table names and ARNs (existing tables) a custom resource turns on
   * the Kinesis streaming destination. A table defined in the same app (an `ITable` construct)
   * is left alone: set its own `kinesisStream: <this stream>` and
   * `kinesisPrecisionTimestamp: ApproximateCreationDateTimePrecision.MICROSECOND`, so that
   * CloudFormation owns the setting.
   */
  tables: (dynamodb.ITable | string)[];
  /** The imported tables, in `tables` order (see ProtectedCluster). */
  imported: dynamodb.ITable[];
  /** Provisioned capacity with this many shards. Default: on-demand. */
  shardCount?: number;
  log: LogBackup;
}

/**
 * A protected cluster's change log: the Kinesis stream `rewind-log-<cluster>` (encrypted with
 * the AWS managed Kinesis key), the DynamoDB streaming destination of each existing table, and
 * the stream's registration with ship-log and advance-checkpoint.
 */
export class ClusterLogStream extends Construct {
  readonly stream: kinesis.Stream;
  readonly streamName: string;

  constructor(scope: Construct, id: string, props: ClusterLogStreamProps) {
    super(scope, id);
    const provisioned = props.shardCount !== undefined;
    this.streamName = logStreamName(props.clusterName);
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: this.streamName,
      // The AWS managed key (alias/aws/kinesis): DynamoDB can write to it without a key grant.
      encryption: kinesis.StreamEncryption.MANAGED,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: props.shardCount,
      retentionPeriod: Duration.hours(24),
    });

    props.tables.forEach((table, index) => {
      if (typeof table !== 'string') return;
      const imported = props.imported[index];
      if (imported) this.enableStreaming(imported, index);
    });
    props.log.addStream(this.stream);
  }

  private enableStreaming(table: dynamodb.ITable, index: number): void {
    const streamArn = this.stream.streamArn;
    const target = { TableName: table.tableName, StreamArn: streamArn };
    new cr.AwsCustomResource(this, `Streaming${index}`, {
      resourceType: 'Custom::RewindKinesisStreamingDestination',
      installLatestAwsSdk: false,
      onCreate: {
        service: 'DynamoDB',
        action: 'enableKinesisStreamingDestination',
        parameters: {
          ...target,
          EnableKinesisStreamingConfiguration: { ApproximateCreationDateTimePrecision: 'MICROSECOND' },
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${table.tableName}|${this.streamName}`),
      },
      onDelete: {
        service: 'DynamoDB',
        action: 'disableKinesisStreamingDestination',
        parameters: target,
        // Already gone (table deleted, or the destination disabled by hand): nothing to undo.
        ignoreErrorCodesMatching: 'ResourceNotFoundException',
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: [
            'dynamodb:EnableKinesisStreamingDestination',
            'dynamodb:DisableKinesisStreamingDestination',
          ],
          resources: [table.tableArn],
        }),
        new iam.PolicyStatement({
          actions: ['kinesis:DescribeStream', 'kinesis:PutRecord', 'kinesis:PutRecords'],
          resources: [streamArn],
        }),
      ]),
    });
    acknowledgeCustomResourceProvider(this);
  }
}
