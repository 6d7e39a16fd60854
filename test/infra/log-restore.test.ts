import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupStore } from '../../cdk/constructs/backup-store';
import { LogBackup } from '../../cdk/constructs/log-backup';
import { ProtectedCluster } from '../../cdk/constructs/protected-cluster';
import { TABLE_WRITE_ACTIONS } from '../../cdk/constructs/restore-pipeline';
import { SnapshotPipeline } from '../../cdk/constructs/snapshot-pipeline';
import { restoreTaskSpecs } from '../../functions/specs';
import { actionsOf, flatten, logicalId, resourcesOf, roleStatements, type Statement, synth } from './synth';

// Prepare: one synthesis shared by the tests of this file (bundling skipped, see synth.ts).
const { stack, template, assembly, cleanup } = synth();
afterAll(cleanup);
const { store, log, restore } = stack;

const id = (construct: { node: { defaultChild?: unknown } }) => logicalId(stack, construct);
const arn = (construct: { node: { defaultChild?: unknown } }) => `\${${id(construct)}.Arn}`;
const statementsOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
  if (!fn.role) throw new Error('function without role');
  return roleStatements(template, id(fn.role));
};
const allowed = (statements: Statement[], action: string) =>
  statements
    .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action))
    .flatMap(resourcesOf)
    .sort();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

const streams = stack.clusters.map((cluster) => {
  if (!cluster.logStream) throw new Error(`cluster ${cluster.clusterName} has no log stream`);
  return cluster.logStream.stream;
});
const tableArn = (name: string) =>
  `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${name}`;
const sourceTableArns = [
  tableArn('orders'),
  tableArn('customers'),
  'arn:aws:dynamodb:eu-west-1:111122223333:table/entries',
];
const allTables = tableArn('*');

describe('log streams', () => {
  it('creates one KMS-encrypted on-demand stream rewind-log-<cluster> per cluster', () => {
    const found = ofType('AWS::Kinesis::Stream').map(([, r]) => r.Properties);
    expect(found.map((p) => p.Name).sort()).toEqual(['rewind-log-ledger', 'rewind-log-shop']);
    for (const props of found) {
      expect(props.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
      expect(props.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
      expect(props.ShardCount).toBeUndefined();
    }
  });

  it('turns on the Kinesis streaming destination of each named table with MICROSECOND precision, off on delete', () => {
    const calls = ofType('Custom::RewindKinesisStreamingDestination').map(([, r]) => ({
      create: JSON.parse(flatten(r.Properties.Create)),
      remove: JSON.parse(flatten(r.Properties.Delete)),
    }));
    expect(calls.map((c) => c.create.parameters.TableName).sort()).toEqual([
      'customers',
      'entries',
      'orders',
    ]);
    const shopStream = `\${${id(streams[0] as never)}.Arn}`;
    for (const call of calls) {
      expect(call.create).toMatchObject({
        service: 'DynamoDB',
        action: 'enableKinesisStreamingDestination',
        parameters: {
          EnableKinesisStreamingConfiguration: { ApproximateCreationDateTimePrecision: 'MICROSECOND' },
        },
      });
      expect(call.remove).toMatchObject({
        action: 'disableKinesisStreamingDestination',
        parameters: {
          TableName: call.create.parameters.TableName,
          StreamArn: call.create.parameters.StreamArn,
        },
      });
    }
    const orders = calls.find((c) => c.create.parameters.TableName === 'orders');
    expect(orders?.create.parameters.StreamArn).toBe(shopStream);
  });

  it('lets the streaming-destination custom resource act only on its table and stream', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([policyId]) => policyId.includes('Streaming'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(policies.length).toBeGreaterThan(0);
    for (const statement of policies) {
      for (const resource of resourcesOf(statement)) expect(resource).not.toContain('*');
    }
    const enabling = policies.filter((s) =>
      actionsOf(s).includes('dynamodb:EnableKinesisStreamingDestination'),
    );
    expect(enabling.flatMap(resourcesOf).sort()).toEqual([...sourceTableArns].sort());
  });

  it('uses provisioned shards when the cluster asks for them', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const other = new Stack(app, 'Shards');
    const otherStore = new BackupStore(other, 'Store');
    new ProtectedCluster(other, 'C', {
      clusterName: 'busy',
      tables: ['busy-table'],
      store: otherStore,
      pipeline: new SnapshotPipeline(other, 'Snapshot', { store: otherStore }),
      log: new LogBackup(other, 'Log', { store: otherStore }),
      options: { logShardCount: 4 },
    });
    Template.fromStack(other).hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'rewind-log-busy',
      ShardCount: 4,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });
});

describe('ship-log', () => {
  const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
    ([, r]) => flatten(r.Properties.FunctionName) === `\${${id(log.shipLog)}}`,
  );

  it('reads every cluster stream: one batch per shard in order, bisect, partial failures, bounded retries', () => {
    expect(mappings.map(([, r]) => flatten(r.Properties.EventSourceArn)).sort()).toEqual(
      streams.map((s) => arn(s)).sort(),
    );
    for (const [, mapping] of mappings) {
      expect(mapping.Properties).toMatchObject({
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 1,
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 5,
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(log.gapQueue), 'Arn'] } } },
      });
    }
  });

  it('sends failed batches to a KMS-encrypted queue that record-gap consumes', () => {
    expect(resources[id(log.gapQueue)]?.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [id(store.key), 'Arn'],
    });
    const consumer = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => flatten(r.Properties.EventSourceArn) === arn(log.gapQueue),
    );
    expect(consumer.map(([, r]) => flatten(r.Properties.FunctionName))).toEqual([`\${${id(log.recordGap)}}`]);
    expect(allowed(statementsOf(log.recordGap), 'sqs:ReceiveMessage')).toEqual([arn(log.gapQueue)]);
    expect(allowed(statementsOf(log.shipLog), 'sqs:SendMessage')).toEqual([arn(log.gapQueue)]);
  });

  it('puts log objects under v1/ only, with the catalog read/write', () => {
    const statements = statementsOf(log.shipLog);
    expect(allowed(statements, 's3:PutObject')).toEqual([`${arn(store.bucket)}/v1/*`]);
    expect(allowed(statements, 's3:GetObject*')).toEqual([]);
    expect(allowed(statements, 'dynamodb:PutItem')).toEqual([arn(store.catalog)]);
    expect(allowed(statements, 'kinesis:GetRecords').sort()).toEqual(streams.map((s) => arn(s)).sort());
  });
});

describe('advance-checkpoint', () => {
  it('runs every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [id(log.advanceCheckpoint), 'Arn'] },
          Id: 'Target0',
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    });
  });

  it('reads shards of the cluster streams only, and the catalog', () => {
    const statements = statementsOf(log.advanceCheckpoint);
    for (const action of [
      'kinesis:ListShards',
      'kinesis:GetShardIterator',
      'kinesis:GetRecords',
      'kinesis:DescribeStreamSummary',
    ])
      expect(allowed(statements, action)).toEqual(streams.map((s) => arn(s)).sort());
    expect(allowed(statements, 'dynamodb:UpdateItem')).toEqual([arn(store.catalog)]);
    expect(allowed(statements, 's3:PutObject')).toEqual([]);
  });
});

describe('restore state machine', () => {
  const sm = resources[id(restore.stateMachine)];
  if (!sm) throw new Error('no restore state machine');
  const location = sm.Properties.DefinitionS3Location as { Key: string };
  const definition = readFileSync(join(assembly.directory, `asset.${location.Key}`), 'utf8');

  it('deploys the shared restore ASL with a fixed name', () => {
    const source = readFileSync(new URL('../../statemachines/restore.asl.json', import.meta.url), 'utf8');
    expect(definition).toBe(source);
    expect(sm.Properties).toMatchObject({
      StateMachineName: 'RewindTest-restore',
      StateMachineType: 'STANDARD',
    });
  });

  it('resolves every placeholder of the definition to the ARN of its function', () => {
    const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
    const functions = {
      'restore-create-tables': restore.createTables,
      'restore-load': restore.load,
      'restore-plan-replay': restore.planReplay,
      'restore-replay': restore.replay,
      'restore-verify': restore.verify,
      'restore-fail': restore.fail,
    };
    for (const spec of restoreTaskSpecs) {
      expect(substitutions[spec.substitution ?? '']).toEqual({
        'Fn::GetAtt': [id(functions[spec.name as keyof typeof functions]), 'Arn'],
      });
    }
  });

  it('lets its role invoke exactly the six restore functions', () => {
    const statements = roleStatements(template, id(restore.stateMachine.role));
    const expected = [
      restore.createTables,
      restore.load,
      restore.planReplay,
      restore.replay,
      restore.verify,
      restore.fail,
    ]
      .map((fn) => arn(fn))
      .sort();
    expect(allowed(statements, 'lambda:InvokeFunction')).toEqual(expected);
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))).toEqual([]);
  });

  it('exports its ARN and the start-restore function name', () => {
    template.hasOutput('RestoreStateMachineArn', { Value: { Ref: id(restore.stateMachine) } });
    template.hasOutput('StartRestoreFunctionName', { Value: { Ref: id(restore.startRestore) } });
  });
});

describe('restore least privilege', () => {
  const all = [
    restore.createTables,
    restore.load,
    restore.planReplay,
    restore.replay,
    restore.verify,
    restore.fail,
    restore.startRestore,
    restore.resumeRestore,
  ];

  it('explicitly denies every restore function writes to the protected source tables', () => {
    for (const fn of all) {
      const denies = statementsOf(fn).filter((s) => s.Effect === 'Deny');
      const denied = denies.flatMap(resourcesOf);
      for (const source of sourceTableArns) expect(denied).toContain(source);
      for (const action of [
        'dynamodb:BatchWriteItem',
        'dynamodb:PutItem',
        'dynamodb:CreateTable',
        'dynamodb:DeleteTable',
      ])
        expect(denies.flatMap(actionsOf)).toContain(action);
      expect(new Set(denies.flatMap(actionsOf))).toEqual(new Set(TABLE_WRITE_ACTIONS));
    }
  });

  it('writes target tables only through BatchWriteItem (load, replay) and creates them in create-tables', () => {
    // The catalog's read/write grant includes BatchWriteItem too.
    const targets = [arn(store.catalog), allTables].sort();
    expect(allowed(statementsOf(restore.load), 'dynamodb:BatchWriteItem')).toEqual(targets);
    expect(allowed(statementsOf(restore.replay), 'dynamodb:BatchWriteItem')).toEqual(targets);
    expect(allowed(statementsOf(restore.createTables), 'dynamodb:CreateTable')).toEqual([allTables]);
    expect(allowed(statementsOf(restore.createTables), 'dynamodb:UpdateTimeToLive')).toEqual([allTables]);
    for (const fn of [restore.planReplay, restore.verify, restore.fail, restore.startRestore]) {
      expect(allowed(statementsOf(fn), 'dynamodb:BatchWriteItem')).not.toContain(allTables);
      expect(allowed(statementsOf(fn), 'dynamodb:CreateTable')).toEqual([]);
    }
  });

  it('lets verify Scan only with Select COUNT', () => {
    const scans = statementsOf(restore.verify).filter(
      (s) =>
        s.Effect === 'Allow' && actionsOf(s).includes('dynamodb:Scan') && resourcesOf(s).includes(allTables),
    );
    expect(scans.length).toBe(1);
    expect(scans[0]?.Condition).toEqual({ StringEquals: { 'dynamodb:Select': 'COUNT' } });
  });

  it('reads the bucket, never writes it', () => {
    for (const fn of all) {
      expect(allowed(statementsOf(fn), 's3:PutObject')).toEqual([]);
      expect(allowed(statementsOf(fn), 's3:DeleteObject*')).toEqual([]);
    }
    expect(allowed(statementsOf(restore.load), 's3:GetObject*')).toContain(`${arn(store.bucket)}/*`);
  });

  it('lets start-restore start only the restore state machine', () => {
    expect(allowed(statementsOf(restore.startRestore), 'states:StartExecution')).toEqual([
      `\${${id(restore.stateMachine)}}`,
    ]);
  });
});
