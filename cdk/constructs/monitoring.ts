import { Annotations, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { longestGapHours } from '../../functions/core/cron-pattern';
import { InvalidInputError } from '../../functions/core/errors';
import {
  clusterMetric,
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  serviceMetric,
} from '../../functions/core/metric-names';
import type { ClusterSchedule } from './cluster-schedules';

export interface MonitoredCluster {
  name: string;
  /** Automatic backups: the "no backup for too long" alarm follows this schedule. */
  schedule?: ClusterSchedule;
  /** The cluster ships its change log (the RPO alarm applies). */
  logBackup: boolean;
}

export interface MonitoringProps {
  clusters: MonitoredCluster[];
  snapshotStateMachine: sfn.IStateMachine;
  restoreStateMachine: sfn.IStateMachine;
  /** Functions that run in the background (schedules, queues): any error alarms. */
  backgroundFunctions: lambda.IFunction[];
  /** ship-log: its Kinesis iterator age says how far behind log backup is. */
  shipLog?: lambda.IFunction;
  /** ship-log's on-failure queue, drained by record-gap: old messages mean gaps not recorded. */
  gapQueue?: sqs.IQueue;
  /** Alarm when a cluster's RPO (now − restorable checkpoint) stays above this. Default 600 s. */
  rpoAlarmSeconds?: number;
  /** Added to the longest gap between scheduled backups before "no backup" alarms. Default 2 h. */
  backupSlackHours?: number;
  /** Subscribe this address to the alarm topic (a confirmation mail is sent). */
  alarmEmail?: string;
  /** Reference instant for the schedule analysis (tests). Default: synth time. */
  now?: Date;
}

/** Longer gaps get no "backup missing" alarm: a schedule that rare is watched by hand. */
const MAX_ALARM_HOURS = 24 * 35;

/**
 * Alarms an operator needs to trust the backups, all to one SNS topic:
 * - per cluster: RPO above the threshold, a FAILED backup, no COMPLETED backup for longer than
 *   the schedule's longest gap + slack (both gauges come from advance-checkpoint every minute;
 *   missing data breaches: a stopped advancer vouches for nothing);
 * - log backup: a gap recorded, ship-log falling behind its stream, the gap queue not draining;
 * - failed, timed-out or aborted snapshot and restore executions; errors of background functions.
 * Metric names and dimensions come from functions/core/metric-names.ts, the list the functions
 * publish with (test/unit/metrics-contract.test.ts).
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const rpoSeconds = props.rpoAlarmSeconds ?? 600;
    if (!Number.isInteger(rpoSeconds) || rpoSeconds < 60)
      throw new InvalidInputError('alarms.rpoSeconds', `a whole number of seconds ≥ 60, got ${rpoSeconds}`);
    const slackHours = props.backupSlackHours ?? 2;

    // CloudWatch alarms publish to an encrypted topic only with a customer key that lets them.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Rewind: encrypts the alarm topic',
      enableKeyRotation: true,
    });
    // Only for this account's alarms (confused-deputy conditions).
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Rewind alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    for (const cluster of props.clusters) this.clusterAlarms(cluster, rpoSeconds, slackHours, props.now);

    this.alarm('LogGaps', {
      alarmDescription: 'Rewind: changes were discarded and a log gap recorded; PITR cannot cross it',
      metric: rewindMetric(serviceMetric.gapsRecorded, { service: METRIC_SERVICE }, 'Sum', 5),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.shipLog)
      this.alarm('ShipLogBehind', {
        alarmDescription: 'Rewind: ship-log is more than 10 minutes behind its change stream',
        metric: props.shipLog.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: 600_000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (props.gapQueue)
      this.alarm('GapQueueStuck', {
        alarmDescription: 'Rewind: record-gap is not draining the on-failure queue (gaps not recorded)',
        metric: props.gapQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
        threshold: 900,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    for (const [name, machine] of [
      ['Snapshot', props.snapshotStateMachine],
      ['Restore', props.restoreStateMachine],
    ] as const)
      this.alarm(`${name}ExecutionsFailed`, {
        alarmDescription: `Rewind: a ${name.toLowerCase()} execution failed, timed out or was aborted`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: machine.metricFailed({ statistic: 'Sum' }),
            timedOut: machine.metricTimedOut({ statistic: 'Sum' }),
            aborted: machine.metricAborted({ statistic: 'Sum' }),
          },
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    props.backgroundFunctions.forEach((fn, index) => {
      this.alarm(`FunctionErrors${index}`, {
        alarmDescription: 'Rewind: a background function failed (see its logs)',
        metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    });
  }

  private clusterAlarms(cluster: MonitoredCluster, rpoSeconds: number, slackHours: number, now?: Date) {
    const dimensions = { service: METRIC_SERVICE, cluster: cluster.name };
    const id = (what: string) => `${what}-${cluster.name}`;
    if (cluster.logBackup)
      this.alarm(id('Rpo'), {
        alarmDescription: `Rewind: cluster ${cluster.name} cannot be restored to within ${rpoSeconds} s of now`,
        metric: rewindMetric(clusterMetric.rpoSeconds, dimensions, 'Maximum', 1),
        threshold: rpoSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    this.alarm(id('BackupFailed'), {
      alarmDescription: `Rewind: a backup of cluster ${cluster.name} FAILED`,
      metric: rewindMetric(clusterMetric.backupFailed, dimensions, 'Sum', 5),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (!cluster.schedule) return;
    const gap = longestGapHours(
      cluster.schedule.cron,
      cluster.schedule.timeZone ?? 'Etc/UTC',
      now ?? new Date(),
    );
    const hours = Math.ceil(gap + slackHours);
    if (hours > MAX_ALARM_HOURS) {
      Annotations.of(this).addWarningV2(
        'rewind:backupAlarmTooLong',
        `cluster ${cluster.name}: its schedule leaves up to ${Math.round(gap)} h between backups (over ${MAX_ALARM_HOURS} h); no "backup missing" alarm`,
      );
      return;
    }
    // advance-checkpoint reports the age every minute, counted from the cluster's registration
    // until its first backup: a new deployment is not overdue. Missing data breaches (the
    // advancer stopped: nothing vouches for the backups).
    this.alarm(id('BackupMissing'), {
      alarmDescription: `Rewind: no backup of cluster ${cluster.name} completed in ${hours} h (schedule "${cluster.schedule.cron}")`,
      metric: rewindMetric(clusterMetric.backupAgeSeconds, dimensions, 'Minimum', 5),
      threshold: hours * 3600,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  private alarm(id: string, props: cloudwatch.AlarmProps) {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

function rewindMetric(
  metricName: string,
  dimensionsMap: Record<string, string>,
  statistic: 'Sum' | 'Maximum' | 'Minimum',
  periodMinutes: number,
) {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap,
    statistic,
    period: Duration.minutes(periodMinutes),
  });
}
