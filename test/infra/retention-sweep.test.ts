import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parseConfig } from '../../cdk/config';
import { BackupStore } from '../../cdk/constructs/backup-store';
import { ProtectedCluster } from '../../cdk/constructs/protected-cluster';
import { RetentionSweep } from '../../cdk/constructs/retention-sweep';
import { SnapshotPipeline } from '../../cdk/constructs/snapshot-pipeline';
import { InvalidInputError } from '../../functions/core/errors';
import { deleteBackupSpec } from '../../functions/delete-backup/spec';
import { sweepRetentionSpec } from '../../functions/sweep-retention/spec';
import { actionsOf, allows, flatten, namesIn, resourcesAllowing, roleStatements, synth } from './synth';

// Prepare: one synthesis shared by the tests of this file (bundling skipped, see synth.ts).
const { stack, template, cleanup } = synth();
afterAll(cleanup);
const { store, pipeline, retention } = stack;
const { id, arn, roleOf } = namesIn(stack);
const [shop, ledger] = stack.clusters;
if (!shop || !ledger) throw new Error('testConfig has two clusters');

const resources = template.toJSON().Resources;
const propsOf = (construct: { node: { defaultChild?: unknown } }) => {
  const resource = resources[id(construct)];
  if (!resource) throw new Error(`no resource ${id(construct)}`);
  return resource.Properties;
};
const statementsOf = (fn: NodejsFunction) => roleStatements(template, roleOf(fn));
const ofService = (fn: NodejsFunction, service: string) =>
  statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith(`${service}:`)));
const getAtt = (construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [id(construct), 'Arn'],
});

/** The function's environment parses with its handler's schema, and sets every variable without a default. */
function expectEnvironmentFrom(schema: z.ZodObject, fn: NodejsFunction) {
  const variables = propsOf(fn).Environment.Variables as Record<string, unknown>;
  const asText = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, flatten(v)]));
  expect(schema.safeParse(asText).success).toBe(true);
  const required = Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name);
  for (const name of required) expect(variables[name]).toBeDefined();
}

/** The S3 statements both functions get: list under v1/ only, delete v1/ objects, nothing else. */
const s3Statements = () => [
  {
    Sid: 'ListBackupObjects',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: getAtt(store.bucket),
    Condition: { StringLike: { 's3:prefix': ['v1/*'] } },
  },
  {
    Sid: 'DeleteBackupObjects',
    Effect: 'Allow',
    Action: 's3:DeleteObject',
    Resource: { 'Fn::Join': ['', [getAtt(store.bucket), '/v1/*']] },
  },
];

describe('sweep-retention function', () => {
  const fn = retention.sweepRetention;

  it('runs on Node.js 24 / arm64 for up to 15 minutes, modest memory, no reserved concurrency', () => {
    expect(propsOf(fn)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      MemorySize: 512,
    });
    expect(propsOf(fn).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('gets the environment of sweepRetentionEnv: the catalog and the bucket', () => {
    expect(propsOf(fn).Environment.Variables).toMatchObject({
      CATALOG_TABLE_NAME: { Ref: id(store.catalog) },
      BUCKET_NAME: { Ref: id(store.bucket) },
    });
    expectEnvironmentFrom(sweepRetentionSpec.env, fn);
  });

  it('may read, update and delete catalog items (no PutItem, no Scan), only on the catalog', () => {
    expect(ofService(fn, 'dynamodb')).toEqual([
      {
        Sid: 'Catalog',
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        Resource: getAtt(store.catalog),
      },
    ]);
  });

  it('may list the bucket under v1/ only and delete v1/ objects; never reads or writes an object', () => {
    expect(ofService(fn, 's3')).toEqual(s3Statements());
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:*', 's3:GetObject*', 's3:PutObject*'])
      expect(allows(statementsOf(fn), action)).toEqual([]);
    expect(ofService(fn, 'kms')).toEqual([]);
    const services = new Set(
      statementsOf(fn)
        .flatMap(actionsOf)
        .map((a) => a.split(':')[0]),
    );
    // logs: its own log group only (test/infra/deployed.test.ts).
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 's3', 'xray']);
  });

  it('bounds its asynchronous retries (the schedule invokes it asynchronously)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(fn) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
  });
});

describe('sweep schedules', () => {
  const sweepSchedules = Object.keys(
    template.findResources('AWS::Scheduler::Schedule', {
      Properties: { Target: { Arn: getAtt(retention.sweepRetention) } },
    }),
  ).sort();

  it('creates one per cluster, with or without automatic backups', () => {
    expect(sweepSchedules).toEqual(
      [id(shop.sweepSchedule ?? { node: {} }), id(ledger.sweepSchedule ?? { node: {} })].sort(),
    );
  });

  it.each([
    ['shop', 'Europe/Paris'],
    ['ledger', 'Etc/UTC'],
  ])(
    'sweeps %s daily at 03:00 in its backup time zone (%s) with confirm, a retry policy, no window',
    (name, zone) => {
      const cluster = name === 'shop' ? shop : ledger;
      const schedule = cluster.sweepSchedule ?? { node: {} };
      expect(propsOf(schedule)).toEqual({
        Description: `Rewind: daily retention sweep of cluster ${name}`,
        ScheduleExpression: 'cron(0 3 * * ? *)',
        ScheduleExpressionTimezone: zone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt(retention.sweepRetention),
          RoleArn: getAtt(cluster.sweepScheduleRole ?? { node: {} }),
          Input: `{"cluster":"${name}","confirm":true}`,
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 },
        },
      });
    },
  );

  it.each([
    ['shop', shop],
    ['ledger', ledger],
  ])(
    'gives the %s sweep a role of its own that EventBridge Scheduler of this account assumes and that may only invoke sweep-retention',
    (_, cluster) => {
      const roleId = id(cluster.sweepScheduleRole ?? { node: {} });
      expect(roleId).not.toBe(shop.scheduleRole && id(shop.scheduleRole));
      const trust = resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toHaveLength(1);
      expect(trust[0]).toMatchObject({
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
      });
      expect(trust[0].Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(flatten(trust[0].Condition.StringEquals['aws:SourceArn'])).toBe(
        `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule-group/default`,
      );
      const statements = roleStatements(template, roleId);
      expect(statements.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
      expect(resourcesAllowing(statements, 'lambda:InvokeFunction')).toEqual(
        [arn(retention.sweepRetention), `${arn(retention.sweepRetention)}:*`].sort(),
      );
    },
  );
});

describe('automatic backup schedule', () => {
  it('sends the planned fire time as scheduledAt (Scheduler context attribute)', () => {
    const input = propsOf(shop.schedule ?? { node: {} }).Target.Input as string;
    expect(input).toBe('{"cluster":"shop","kind":"auto","scheduledAt":"<aws.scheduler.scheduled-time>"}');
    expect(JSON.parse(input).scheduledAt).toBe('<aws.scheduler.scheduled-time>');
    expect(propsOf(shop.schedule ?? { node: {} }).Target.Arn).toEqual(getAtt(pipeline.startBackup));
  });
});

describe('delete-backup function', () => {
  const fn = retention.deleteBackup;

  it('runs on Node.js 24 / arm64 with the environment of deleteBackupEnv', () => {
    expect(propsOf(fn)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 300,
      Environment: {
        Variables: { CATALOG_TABLE_NAME: { Ref: id(store.catalog) }, BUCKET_NAME: { Ref: id(store.bucket) } },
      },
    });
    expectEnvironmentFrom(deleteBackupSpec.env, fn);
  });

  it('may get and update catalog items only, list v1/ and delete v1/ objects, nothing else', () => {
    expect(ofService(fn, 'dynamodb')).toEqual([
      {
        Sid: 'Catalog',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: getAtt(store.catalog),
      },
    ]);
    expect(ofService(fn, 's3')).toEqual(s3Statements());
    expect(ofService(fn, 'kms')).toEqual([]);
  });

  it('is not invoked by any schedule', () => {
    const targets = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((s) =>
      flatten(s.Properties.Target.Arn),
    );
    expect(targets).not.toContain(arn(fn));
  });
});

describe('outputs', () => {
  it('exports the sweep-retention and delete-backup function names for the CLI', () => {
    template.hasOutput('SweepRetentionFunctionName', { Value: { Ref: id(retention.sweepRetention) } });
    template.hasOutput('DeleteBackupFunctionName', { Value: { Ref: id(retention.deleteBackup) } });
  });
});

describe('a configured sweep schedule', () => {
  // Prepare / Act
  const { template, cleanup } = synth(
    parseConfig(
      {
        stackName: 'RewindSweepCron',
        clusters: [
          {
            name: 'a',
            tables: ['t-one'],
            retentionSweep: { cron: '30 4 * * 0', timeZone: 'America/New_York' },
          },
          {
            name: 'b',
            tables: ['t-two'],
            schedule: { cron: '0 1 * * *', timeZone: 'Asia/Tokyo' },
            retentionSweep: { cron: 'cron(0 5 ? * MON-FRI *)' },
          },
        ],
      },
      'test',
    ),
  );
  afterAll(cleanup);

  it.each([
    ['a', 'cron(30 4 ? * SUN *)', 'America/New_York'],
    ['b', 'cron(0 5 ? * MON-FRI *)', 'Asia/Tokyo'],
  ])('schedules the sweep of %s with its translated cron %s in %s', (name, expression, zone) => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: zone,
      Target: Match.objectLike({ Input: `{"cluster":"${name}","confirm":true}` }),
    });
  });
});

describe('ProtectedCluster retentionSweep validation', () => {
  const build = (retentionSweep: { cron: string; timeZone?: string }) => () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scope = new Stack(app, 'Bad');
    const store = new BackupStore(scope, 'Store');
    // Act
    new ProtectedCluster(scope, 'C', {
      clusterName: 'c',
      tables: ['t-one'],
      store,
      pipeline: new SnapshotPipeline(scope, 'Snapshot', { store }),
      sweep: new RetentionSweep(scope, 'Retention', { store }),
      retentionSweep,
    });
  };

  it.each([
    [{ cron: '0 3 1 * 1' }, /invalid retentionSweep cron: .*at most one of day-of-month/],
    [{ cron: '0 3 * * *', timeZone: 'Mars/Olympus' }, /invalid retentionSweep timeZone: .*IANA/],
  ])('refuses %j with an InvalidInputError naming the field', (retentionSweep, message) => {
    // Assess
    expect(build(retentionSweep)).toThrow(InvalidInputError);
    expect(build(retentionSweep)).toThrow(message);
  });
});
