import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import {
  actionsOf,
  asList,
  flatten,
  namesIn,
  resourcesOf,
  roleStatements,
  type Statement,
  synth,
} from './synth';

// Prepare: one synthesis shared by every test of this file (bundling skipped, see synth.ts).
const { stack, template, cleanup } = synth();
afterAll(cleanup);
const { store, pipeline } = stack;
const { id, arn } = namesIn(stack);

describe('protected clusters', () => {
  const [shop, ledger] = stack.clusters;

  it('schedules the scheduled cluster with its cron and time zone, no flexible window, a retry policy', () => {
    // Every cluster also has a sweep schedule (retention-sweep.test.ts); one starts backups.
    const backupSchedules = Object.keys(
      template.findResources('AWS::Scheduler::Schedule', {
        Properties: { Target: { Arn: { 'Fn::GetAtt': [id(pipeline.startBackup), 'Arn'] } } },
      }),
    );
    expect(backupSchedules).toEqual([id(shop?.schedule ?? { node: {} })]);
    expect(ledger?.schedule).toBeUndefined();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [id(pipeline.startBackup), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [id(shop?.scheduleRole ?? { node: {} }), 'Arn'] },
        // EventBridge Scheduler replaces the context attribute with the planned fire time.
        Input: '{"cluster":"shop","kind":"auto","scheduledAt":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  it('bounds the asynchronous retries of start-backup (Scheduler invokes Lambda asynchronously)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(pipeline.startBackup) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  it('gives the schedule a dedicated role, assumable by EventBridge Scheduler, allowed only to invoke start-backup', () => {
    const roleId = id(shop?.scheduleRole ?? { node: {} });
    const role = template.toJSON().Resources[roleId];
    const trust = role.Properties.AssumeRolePolicyDocument.Statement as Statement[];
    expect(trust.map((s) => s.Principal)).toEqual([{ Service: 'scheduler.amazonaws.com' }]);
    expect(JSON.stringify(trust[0]?.Condition)).toContain('aws:SourceAccount');
    const statements = roleStatements(template, roleId);
    expect(statements.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    expect(statements.flatMap(resourcesOf).sort()).toEqual(
      [arn(pipeline.startBackup), `${arn(pipeline.startBackup)}:*`].sort(),
    );
  });

  it('registers each cluster in the catalog with the documented item shape', () => {
    const items = template.findResources('Custom::RewindCluster');
    expect(Object.keys(items)).toHaveLength(2);
    const calls = Object.values(items).map((r) => ({
      create: JSON.parse(flatten(r.Properties.Create)),
      update: JSON.parse(flatten(r.Properties.Update)),
      remove: JSON.parse(flatten(r.Properties.Delete)),
    }));
    const shopCall = calls.find((c) => c.create.parameters.Item.clusterName.S === 'shop');
    expect(shopCall?.create).toMatchObject({ service: 'DynamoDB', action: 'PutItem' });
    expect(shopCall?.create.parameters.TableName).toBe(`\${${id(store.catalog)}}`);
    const item = shopCall?.create.parameters.Item;
    expect(item).toEqual({
      pk: { S: 'CLUSTER#shop' },
      sk: { S: 'CLUSTER' },
      schemaVersion: { N: '1' },
      entity: { S: 'cluster' },
      clusterName: { S: 'shop' },
      tables: { L: [{ S: 'orders' }, { S: 'customers' }] },
      retentionDays: { N: '14' },
      schedule: { S: '15 3 * * *' },
      timeZone: { S: 'Europe/Paris' },
      createdAt: { S: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) },
    });

    // Update keeps run-time attributes (lock, checkpoint) and the first createdAt.
    expect(shopCall?.update).toMatchObject({ action: 'UpdateItem' });
    expect(shopCall?.update.parameters.Key).toEqual({ pk: { S: 'CLUSTER#shop' }, sk: { S: 'CLUSTER' } });
    expect(shopCall?.update.parameters.UpdateExpression).toContain('if_not_exists(#createdAt, :createdAt)');
    expect(shopCall?.update.parameters.UpdateExpression).not.toContain('runningBackupId');
    // Delete keeps the item (its backups stay restorable) and marks it.
    expect(shopCall?.remove).toMatchObject({
      action: 'UpdateItem',
      parameters: { UpdateExpression: 'SET #status = :removed' },
    });

    const ledgerCall = calls.find((c) => c.create.parameters.Item.clusterName.S === 'ledger');
    expect(ledgerCall?.create.parameters.Item).toMatchObject({
      tables: { L: [{ S: 'entries' }] },
      retentionDays: { N: '7' },
    });
    expect(ledgerCall?.create.parameters.Item.schedule).toBeUndefined();
    expect(ledgerCall?.update.parameters.UpdateExpression).toMatch(/REMOVE .*#schedule.*#timeZone/);
  });

  it('lets the registration write only the catalog item', () => {
    // The AwsCustomResource provider's role is shared by the stack's custom resources; each adds
    // its own policy. These are the registration's.
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([policyId]) => policyId.includes('CatalogItem'))
      .map(([, p]) => p)
      .filter((p) =>
        asList(p.Properties.Roles as unknown[]).some((r) =>
          flatten(r).includes('AWS679f53fac002430cb0da5b7982bd2287'),
        ),
      );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(actionsOf(statement).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
      expect(resourcesOf(statement)).toEqual([arn(store.catalog)]);
    }
  });
});

describe('a stack without clusters', () => {
  // Prepare / Act
  const { stack, template, cleanup } = synth(parseConfig({ stackName: 'RewindEmpty' }, 'test'));
  afterAll(cleanup);

  it('still deploys the store and the pipeline, with no schedule and no source-table access', () => {
    // Assess
    // The backup bucket and its server access log bucket.
    template.resourceCountIs('AWS::S3::Bucket', 2);
    // Snapshot and restore.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1); // the gap queue's
    template.resourceCountIs('Custom::RewindCluster', 0);
    const role = stack.pipeline.scanSegment.role?.node.defaultChild;
    if (!role) throw new Error('scan-segment has no role');
    const statements = roleStatements(
      template,
      stack.getLogicalId(role as Parameters<typeof stack.getLogicalId>[0]),
    );
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('a cluster with an EventBridge cron and no time zone', () => {
  // Prepare / Act
  const { template, cleanup } = synth(
    parseConfig(
      {
        stackName: 'RewindEbCron',
        clusters: [{ name: 'c1', tables: ['t-one'], schedule: { cron: 'cron(0 */6 ? * MON-FRI *)' } }],
      },
      'test',
    ),
  );
  afterAll(cleanup);

  it('passes an EventBridge cron through (steps in the documented n/step form) and defaults the time zone to UTC', () => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 0/6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
    });
  });
});
