import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotTaskSpecs } from '../../functions/specs';
import {
  actionsOf,
  allows,
  isDynamo,
  namesIn,
  protectedTableArns,
  resourcesAllowing,
  resourcesOf,
  roleStatements,
  synth,
} from './synth';

// Prepare: one synthesis shared by every test of this file (bundling skipped, see synth.ts).
const { stack, template, assembly, cleanup } = synth();
afterAll(cleanup);
const { store, pipeline } = stack;
const { id, arn, roleOf } = namesIn(stack);

const smName = 'RewindTest-snapshot';
const smArn = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${smName}`;
const executionArn = (suffix: string) =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${smName}${suffix}`;

describe('functions', () => {
  const ours = [
    pipeline.prepareSnapshot,
    pipeline.scanSegment,
    pipeline.finalizeSnapshot,
    pipeline.failSnapshot,
    pipeline.startBackup,
  ];

  it('runs every pipeline function on Node.js 24 / arm64 with ESM handler index.handler', () => {
    for (const fn of ours) {
      const props = template.toJSON().Resources[id(fn)].Properties;
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('runs every Lambda function of the stack on a supported Node.js runtime', () => {
    // Ours are pinned to 24; the AwsCustomResource provider is CDK's (latest Node it knows).
    const runtimes = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Runtime as string,
    );
    // 5 snapshot + 3 log backup + 8 restore + 2 retention + execution-ended + the
    // AwsCustomResource provider.
    expect(runtimes.length).toBe(20);
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
      'prepare-snapshot': pipeline.prepareSnapshot,
      'scan-segment': pipeline.scanSegment,
      'finalize-snapshot': pipeline.finalizeSnapshot,
      'fail-snapshot': pipeline.failSnapshot,
    };
    for (const spec of snapshotTaskSpecs) {
      expect(substitutions[spec.substitution ?? '']).toEqual({
        'Fn::GetAtt': [id(functions[spec.name as keyof typeof functions]), 'Arn'],
      });
    }
  });

  it('is a STANDARD state machine with a fixed name, X-Ray tracing and CloudWatch logging', () => {
    expect(sm.Properties).toMatchObject({
      StateMachineName: smName,
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
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
      .map((fn) => arn(fn))
      .sort();
    // Unqualified ARNs only, as the definition names them (no `:*` versions or aliases).
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
