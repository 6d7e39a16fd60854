import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import { METRIC_NAMESPACE, METRIC_SERVICE } from '../../functions/core/metric-names';
import { namesIn, synth } from './synth';

// Prepare: the test config's clusters (shop: daily 03:15 Europe/Paris; ledger: no schedule) with
// an alarm address and a 5-minute RPO threshold.
const config = parseConfig(
  {
    stackName: 'RewindAlarms',
    alarms: { email: 'oncall@example.com', rpoSeconds: 300 },
    clusters: [
      {
        name: 'shop',
        tables: ['orders'],
        schedule: { cron: '15 3 * * *', timeZone: 'Europe/Paris' },
      },
      { name: 'ledger', tables: ['entries'] },
      { name: 'archive', tables: ['old'], schedule: { cron: '0 3 1 1 *' } },
    ],
  },
  'test config',
);
const { stack, template, cleanup } = synth(config);
afterAll(cleanup);
const { id } = namesIn(stack);
const topic = { Ref: id(stack.monitoring.topic) };
const alarms = template.findResources('AWS::CloudWatch::Alarm');
const alarmsOn = (metricName: string) =>
  Object.values(alarms).filter((a) => a.Properties.MetricName === metricName);
// CloudWatch dimensions are a set; CDK writes them sorted by name.
const clusterDimensions = (cluster: string) => [
  { Name: 'cluster', Value: cluster },
  { Name: 'service', Value: METRIC_SERVICE },
];

describe('alarms: per cluster, on the metrics the functions publish', () => {
  it('RPO above the threshold for 5 minutes, missing data breaching, for every cluster', () => {
    // Assess
    for (const cluster of ['shop', 'ledger'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: 'RpoSeconds',
        Dimensions: clusterDimensions(cluster),
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        TreatMissingData: 'breaching',
        AlarmActions: [topic],
        OKActions: [topic],
      });
  });

  it('no backup for the schedule longest gap + 2 h: 27 h for a daily Paris schedule (25 h on DST nights)', () => {
    // Assess
    const missing = alarmsOn('BackupAgeSeconds');
    expect(missing).toHaveLength(1);
    expect(missing[0]?.Properties).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Dimensions: clusterDimensions('shop'),
      Statistic: 'Minimum',
      Period: 300,
      Threshold: 27 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
      AlarmActions: [topic],
    });
  });

  it('a schedule too rare to watch gets a synth warning instead of an alarm', () => {
    // Assess
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('cluster archive: its schedule leaves up to \\d+ h between backups'),
    );
  });

  it('a FAILED backup alarms at once, for every cluster', () => {
    // Assess
    const failed = alarmsOn('BackupFailed');
    expect(failed.map((a) => a.Properties.Dimensions)).toEqual(
      expect.arrayContaining([clusterDimensions('shop'), clusterDimensions('ledger')]),
    );
    for (const alarm of failed)
      expect(alarm.Properties).toMatchObject({
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
  });
});

describe('alarms: log backup, executions and background functions', () => {
  it('a recorded log gap alarms (service dimension only)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRIC_NAMESPACE,
      MetricName: 'GapsRecorded',
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICE }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('ship-log more than 10 minutes behind its stream, and a gap queue not drained, alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(stack.log.shipLog) } }],
      Statistic: 'Maximum',
      Threshold: 600_000,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack.log.gapQueue), 'QueueName'] } }],
      Threshold: 900,
    });
  });

  it('failed, timed-out or aborted snapshot and restore executions alarm', () => {
    for (const machine of [stack.pipeline.stateMachine, stack.restore.stateMachine])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' }),
          Match.objectLike({
            Id: 'failed',
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'ExecutionsFailed',
                Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id(machine) } }],
              }),
            }),
          }),
        ]),
        Threshold: 1,
      });
  });

  it('errors of the background functions alarm; console-facing functions do not', () => {
    const watched = alarmsOn('Errors').map((a) => JSON.stringify(a.Properties.Dimensions));
    for (const fn of [stack.retention.sweepRetention, stack.log.recordGap, stack.log.advanceCheckpoint])
      expect(watched).toContain(JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id(fn) } }]));
    for (const fn of [stack.pipeline.startBackup, stack.restore.startRestore])
      expect(watched).not.toContain(JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id(fn) } }]));
  });
});

describe('the alarm topic', () => {
  it('is encrypted with a key CloudWatch may use, TLS-only, mails the configured address, and is an output', () => {
    const keyId = id(stack.monitoring.topic.masterKey ?? stack.monitoring.topic);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: topic,
    });
    template.hasOutput('AlarmTopicArn', { Value: topic });
  });
});

describe('alarm configuration', () => {
  it.each([
    [{ rpoSeconds: 10 }, 'alarms.rpoSeconds'],
    [{ email: 'not-an-address' }, 'alarms.email'],
    [{ backupSlackHours: -1 }, 'alarms.backupSlackHours'],
    [{ pager: true }, 'alarms'],
  ])('refuses %j naming %s', (alarmsConfig, field) => {
    expect(() =>
      parseConfig(
        { stackName: 'X', alarms: alarmsConfig, clusters: [{ name: 'c', tables: ['tbl'] }] },
        'test',
      ),
    ).toThrow(field);
  });
});
