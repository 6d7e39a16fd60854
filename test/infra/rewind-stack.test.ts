import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import { snapshotFunctions } from '../../functions/env';
import {
  actionsOf,
  asList,
  flatten,
  logicalId,
  resourcesOf,
  roleStatements,
  type Statement,
  synth,
} from './synth';

// Prepare: one synthesis shared by every test of this file (bundling skipped, see synth.ts).
const { stack, template, assembly, cleanup } = synth();
afterAll(cleanup);
const { store, pipeline } = stack;

const id = (construct: { node: { defaultChild?: unknown } }) => logicalId(stack, construct);
const arn = (construct: { node: { defaultChild?: unknown } }) => `\${${id(construct)}.Arn}`;
const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
  if (!fn.role) throw new Error('function without role');
  return id(fn.role);
};

const tableArn = (name: string) =>
  `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${name}`;
const protectedTableArns = [
  tableArn('orders'),
  tableArn('customers'),
  'arn:aws:dynamodb:eu-west-1:111122223333:table/entries',
];
const smName = 'RewindTest-snapshot';
const smArn = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${smName}`;
const executionArn = (suffix: string) =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${smName}${suffix}`;

const isDynamo = (s: Statement) => actionsOf(s).some((a) => a.startsWith('dynamodb:') || a === '*');
const allows = (statements: Statement[], action: string) =>
  statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
const resourcesAllowing = (statements: Statement[], action: string) =>
  allows(statements, action).flatMap(resourcesOf).sort();

describe('backup store', () => {
  it('encrypts the bucket with the stack key (SSE-KMS, bucket key), versioned, public access blocked, retained', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toEqual([id(store.bucket)]);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [id(store.key), 'Arn'] },
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        ObjectLockEnabled: Match.absent(),
      },
    });
  });

  it('uses a customer-managed key with rotation, retained with the stack', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('denies every request that is not TLS', () => {
    const policy = template.findResources('AWS::S3::BucketPolicy');
    const [document] = Object.values(policy).map((p) => p.Properties);
    expect(document.Bucket).toEqual({ Ref: id(store.bucket) });
    const tlsOnly = (document.PolicyDocument.Statement as Statement[]).find(
      (s) =>
        s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
    );
    expect(tlsOnly).toBeDefined();
    expect(tlsOnly?.Principal).toEqual({ AWS: '*' });
    expect(actionsOf(tlsOnly as Statement)).toEqual(['s3:*']);
    expect(resourcesOf(tlsOnly as Statement).sort()).toEqual(
      [arn(store.bucket), `${arn(store.bucket)}/*`].sort(),
    );
  });

  it('keys the catalog on pk/sk strings, on demand, with PITR and deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      },
    });
  });
});

describe('functions', () => {
  const ours = [
    pipeline.prepareSnapshot,
    pipeline.scanSegment,
    pipeline.finalizeSnapshot,
    pipeline.failSnapshot,
    pipeline.startBackup,
  ];

  it('runs every pipeline function on Node.js 22 / arm64 with ESM handler index.handler', () => {
    for (const fn of ours) {
      const props = template.toJSON().Resources[id(fn)].Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('runs every Lambda function of the stack on a supported Node.js runtime', () => {
    // Ours are pinned to 22; the AwsCustomResource provider is CDK's (latest Node it knows).
    const runtimes = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Runtime as string,
    );
    // 5 snapshot + 3 log backup + 8 restore + the AwsCustomResource provider.
    expect(runtimes.length).toBe(17);
    for (const runtime of runtimes) expect(runtime).toMatch(/^nodejs(22|24)\.x$/);
  });

  it('sizes scan-segment for long scans and the others for short calls', () => {
    const props = (fn: (typeof ours)[number]) => template.toJSON().Resources[id(fn)].Properties;
    expect(props(pipeline.scanSegment)).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    for (const fn of ours.filter((f) => f !== pipeline.scanSegment)) {
      expect(props(fn).Timeout).toBeGreaterThanOrEqual(60);
      expect(props(fn).Timeout).toBeLessThanOrEqual(300);
    }
  });

  it('passes each function the environment its zod schema requires', () => {
    const env = (fn: (typeof ours)[number]) =>
      template.toJSON().Resources[id(fn)].Properties.Environment.Variables as Record<string, unknown>;
    const storage = {
      CATALOG_TABLE_NAME: { Ref: id(store.catalog) },
      BUCKET_NAME: { Ref: id(store.bucket) },
    };
    for (const fn of [
      pipeline.prepareSnapshot,
      pipeline.scanSegment,
      pipeline.finalizeSnapshot,
      pipeline.failSnapshot,
    ])
      expect(env(fn)).toMatchObject(storage);
    expect(env(pipeline.startBackup)).toMatchObject({
      CATALOG_TABLE_NAME: { Ref: id(store.catalog) },
      SNAPSHOT_STATE_MACHINE_ARN: { Ref: id(pipeline.stateMachine) },
    });
    expect(env(pipeline.startBackup).BUCKET_NAME).toBeUndefined();
  });
});

describe('snapshot state machine', () => {
  const sm = template.toJSON().Resources[id(pipeline.stateMachine)];
  const definition = readFileSync(
    join(assembly.directory, `asset.${sm.Properties.DefinitionS3Location.Key}`),
    'utf8',
  );

  it('deploys the shared ASL file with a Distributed Map', () => {
    const source = readFileSync(new URL('../../statemachines/snapshot.asl.json', import.meta.url), 'utf8');
    expect(definition).toBe(source);
    const asl = JSON.parse(definition);
    const maps = Object.values(asl.States as Record<string, Record<string, unknown>>).filter(
      (state) => state.Type === 'Map',
    );
    expect(
      maps.map((m) => (m.ItemProcessor as { ProcessorConfig: { Mode: string } }).ProcessorConfig.Mode),
    ).toContain('DISTRIBUTED');
  });

  it('resolves every placeholder of the definition to the ARN of its function', () => {
    const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
    const functions = {
      prepareSnapshot: pipeline.prepareSnapshot,
      scanSegment: pipeline.scanSegment,
      finalizeSnapshot: pipeline.finalizeSnapshot,
      failSnapshot: pipeline.failSnapshot,
    };
    for (const [name, spec] of Object.entries(snapshotFunctions)) {
      expect(substitutions[spec.substitution]).toEqual({
        'Fn::GetAtt': [id(functions[name as keyof typeof functions]), 'Arn'],
      });
    }
  });

  it('is a STANDARD state machine with a fixed name, X-Ray tracing and CloudWatch logging', () => {
    expect(sm.Properties).toMatchObject({
      StateMachineName: smName,
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ERROR',
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
        ],
      },
    });
  });

  it('lets its role invoke exactly the four pipeline functions', () => {
    const statements = roleStatements(template, id(pipeline.stateMachine.role));
    const expected = [
      pipeline.prepareSnapshot,
      pipeline.scanSegment,
      pipeline.finalizeSnapshot,
      pipeline.failSnapshot,
    ]
      .flatMap((fn) => [arn(fn), `${arn(fn)}:*`])
      .sort();
    expect(resourcesAllowing(statements, 'lambda:InvokeFunction')).toEqual(expected);
  });

  it('lets its role start and manage its own Distributed Map child executions, nothing else', () => {
    const statements = roleStatements(template, id(pipeline.stateMachine.role));
    expect(resourcesAllowing(statements, 'states:StartExecution')).toEqual([smArn]);
    expect(resourcesAllowing(statements, 'states:DescribeExecution')).toEqual(
      [executionArn(':*'), executionArn('/*')].sort(),
    );
    expect(resourcesAllowing(statements, 'states:StopExecution')).toEqual(
      [executionArn(':*'), executionArn('/*')].sort(),
    );
    expect(statements.filter(isDynamo)).toEqual([]);
  });
});

describe('least privilege', () => {
  const statementsOf = (fn: Parameters<typeof roleOf>[0]) => roleStatements(template, roleOf(fn));
  const catalogArn = arn(store.catalog);

  it('never grants dynamodb:* or a wildcard resource on DynamoDB to a pipeline function', () => {
    for (const fn of [
      pipeline.prepareSnapshot,
      pipeline.scanSegment,
      pipeline.finalizeSnapshot,
      pipeline.failSnapshot,
      pipeline.startBackup,
    ]) {
      for (const statement of statementsOf(fn).filter(isDynamo)) {
        expect(actionsOf(statement)).not.toContain('dynamodb:*');
        expect(actionsOf(statement)).not.toContain('*');
        expect(resourcesOf(statement)).not.toContain('*');
      }
    }
  });

  it('scan-segment: Scan only on the protected tables, S3 put under v1/ only, no catalog access', () => {
    const statements = statementsOf(pipeline.scanSegment);
    const dynamo = statements.filter(isDynamo);
    expect(dynamo.flatMap(actionsOf).every((a) => a === 'dynamodb:Scan')).toBe(true);
    expect(resourcesAllowing(statements, 'dynamodb:Scan')).toEqual([...protectedTableArns].sort());
    expect(resourcesAllowing(statements, 's3:PutObject')).toEqual([`${arn(store.bucket)}/v1/*`]);
    expect(allows(statements, 's3:GetObject*')).toEqual([]);
    expect(statements.flatMap(resourcesOf)).not.toContain(catalogArn);
    // Multipart uploads under SSE-KMS need both.
    expect(resourcesAllowing(statements, 'kms:GenerateDataKey*')).toEqual([arn(store.key)]);
    expect(resourcesAllowing(statements, 'kms:Decrypt')).toEqual([arn(store.key)]);
  });

  it('prepare-snapshot: catalog read/write and DescribeTable on the protected tables only', () => {
    const statements = statementsOf(pipeline.prepareSnapshot);
    expect(resourcesAllowing(statements, 'dynamodb:PutItem')).toEqual([catalogArn]);
    expect(resourcesAllowing(statements, 'dynamodb:DescribeTable')).toEqual(
      [catalogArn, ...protectedTableArns].sort(),
    );
    const sourceActions = statements
      .filter((s) => resourcesOf(s).some((r) => protectedTableArns.includes(r)))
      .flatMap(actionsOf);
    expect([...new Set(sourceActions)]).toEqual(['dynamodb:DescribeTable']);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('finalize-snapshot: bucket read/write/delete, catalog read/write, DescribeTable + DescribeTimeToLive on sources', () => {
    const statements = statementsOf(pipeline.finalizeSnapshot);
    for (const action of ['s3:GetObject*', 's3:List*', 's3:PutObject', 's3:DeleteObject*'])
      expect(resourcesAllowing(statements, action)).toContain(`${arn(store.bucket)}/*`);
    expect(resourcesAllowing(statements, 'kms:Decrypt')).toContain(arn(store.key));
    expect(resourcesAllowing(statements, 'dynamodb:UpdateItem')).toEqual([catalogArn]);
    expect(resourcesAllowing(statements, 'dynamodb:DescribeTimeToLive')).toEqual(
      [...protectedTableArns].sort(),
    );
    expect(resourcesAllowing(statements, 'dynamodb:Scan')).toEqual([catalogArn]);
  });

  it('fail-snapshot: catalog read/write, list and delete in the bucket, nothing on source tables', () => {
    const statements = statementsOf(pipeline.failSnapshot);
    expect(resourcesAllowing(statements, 'dynamodb:UpdateItem')).toEqual([catalogArn]);
    expect(resourcesAllowing(statements, 's3:ListBucket')).toEqual([arn(store.bucket)]);
    expect(resourcesAllowing(statements, 's3:DeleteObject*')).toEqual([`${arn(store.bucket)}/*`]);
    expect(allows(statements, 's3:PutObject')).toEqual([]);
    expect(statements.flatMap(resourcesOf).filter((r) => protectedTableArns.includes(r))).toEqual([]);
  });

  it('start-backup: catalog read/write and StartExecution on the snapshot state machine only', () => {
    const statements = statementsOf(pipeline.startBackup);
    expect(resourcesAllowing(statements, 'dynamodb:UpdateItem')).toEqual([catalogArn]);
    const states = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(states.flatMap(actionsOf)).toEqual(['states:StartExecution']);
    expect(states.flatMap(resourcesOf)).toEqual([`\${${id(pipeline.stateMachine)}}`]);
    expect(statements.flatMap(resourcesOf).filter((r) => protectedTableArns.includes(r))).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });
});

describe('protected clusters', () => {
  const [shop, ledger] = stack.clusters;

  it('schedules the scheduled cluster with its cron and time zone, no flexible window, a retry policy', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.keys(schedules)).toHaveLength(1);
    expect(ledger?.schedule).toBeUndefined();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [id(pipeline.startBackup), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [id(shop?.scheduleRole ?? { node: {} }), 'Arn'] },
        Input: JSON.stringify({ cluster: 'shop', kind: 'auto' }),
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

describe('outputs', () => {
  it('exports the names the CLI reads', () => {
    template.hasOutput('BucketName', { Value: { Ref: id(store.bucket) } });
    template.hasOutput('CatalogTableName', { Value: { Ref: id(store.catalog) } });
    template.hasOutput('SnapshotStateMachineArn', { Value: { Ref: id(pipeline.stateMachine) } });
    template.hasOutput('StartBackupFunctionName', { Value: { Ref: id(pipeline.startBackup) } });
  });
});

describe('a stack without clusters', () => {
  // Prepare / Act
  const { stack, template, cleanup } = synth(parseConfig({ stackName: 'RewindEmpty' }, 'test'));
  afterAll(cleanup);

  it('still deploys the store and the pipeline, with no schedule and no source-table access', () => {
    // Assess
    template.resourceCountIs('AWS::S3::Bucket', 1);
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

describe('a stack with Object Lock', () => {
  const { template, cleanup } = synth(
    parseConfig(
      {
        stackName: 'RewindLocked',
        clusters: [{ name: 'c1', tables: ['t-one'], schedule: { cron: 'cron(0 */6 ? * MON-FRI *)' } }],
        bucket: { objectLock: { mode: 'COMPLIANCE', days: 30 }, noncurrentVersionDays: 45 },
      },
      'test',
    ),
  );
  afterAll(cleanup);

  it('enables Object Lock with the default retention and keeps noncurrent versions as configured', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 45 } })]),
      },
    });
  });

  it('passes an EventBridge cron through (steps in the documented n/step form) and defaults the time zone to UTC', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 0/6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
    });
  });
});
