import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkedDefinitionTimeout } from '../../cdk/constructs/asl-state-machine';
import { fromRoot } from '../../cdk/paths';
import {
  actionsOf,
  flatten,
  namesIn,
  propsOf,
  resourcesOfType,
  roleStatements,
  synth,
  synthApp,
  testConfig,
} from './synth';

// What we deploy is what we test: the definitions, roles and buckets as synthesized.
const { stack, template, assembly, cleanup } = synth(testConfig);
afterAll(cleanup);
const { id } = namesIn(stack);

/** The deployed definition of a state machine: its S3 asset from the cloud assembly. */
function deployedDefinition(logicalId: string): Record<string, unknown> {
  const location = propsOf(template, logicalId).DefinitionS3Location as { Key: unknown };
  const key = flatten(location.Key);
  const assets = JSON.parse(
    readFileSync(`${assembly.directory}/${stack.artifactId}.assets.json`, 'utf8'),
  ) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const asset = Object.values(assets.files).find((file) =>
    Object.values(file.destinations).some((d) => d.objectKey === key),
  );
  if (!asset) throw new Error(`no asset for ${key}`);
  return JSON.parse(readFileSync(`${assembly.directory}/${asset.source.path}`, 'utf8'));
}

describe('state machine timeouts', () => {
  it('the deployed snapshot definition stops an execution after 24 h, restore after 48 h', () => {
    const snapshot = deployedDefinition(id(stack.pipeline.stateMachine));
    const restore = deployedDefinition(id(stack.restore.stateMachine));
    expect(snapshot.TimeoutSeconds).toBe(Duration.hours(24).toSeconds());
    expect(restore.TimeoutSeconds).toBe(Duration.hours(48).toSeconds());
  });

  it('synth refuses an ASL file whose TimeoutSeconds differs from the construct timeout', () => {
    expect(checkedDefinitionTimeout('statemachines/snapshot.asl.json', Duration.hours(24))).toBe(86400);
    expect(() => checkedDefinitionTimeout('statemachines/snapshot.asl.json', Duration.hours(12))).toThrow(
      /TimeoutSeconds is 86400.*43200 s/,
    );
  });

  it('logs every state transition without execution data', () => {
    for (const machine of [stack.pipeline.stateMachine, stack.restore.stateMachine]) {
      const config = propsOf(template, id(machine)).LoggingConfiguration as Record<string, unknown>;
      expect(config).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    }
  });
});

describe('ASL files', () => {
  for (const name of ['snapshot', 'restore']) {
    it(`statemachines/${name}.asl.json is valid ASL (placeholders as dummy ARNs)`, () => {
      const text = readFileSync(fromRoot(`statemachines/${name}.asl.json`), 'utf8').replace(
        /\$\{(\w+)\}/g,
        (_, placeholder: string) => `arn:aws:lambda:eu-west-1:111122223333:function:${placeholder}`,
      );
      const { isValid, errorsText } = aslValidator(JSON.parse(text));
      expect(errorsText('\n'), errorsText('\n')).toBe('');
      expect(isValid).toBe(true);
    });
  }
});

describe('function roles', () => {
  // Ours: all but CDK's AwsCustomResource provider (acknowledged in cdk/nag.ts).
  const ours = resourcesOfType(template, 'AWS::Lambda::Function').filter(
    ([logicalId]) => !logicalId.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
  );

  it('every function runs on nodejs24.x', () => {
    for (const [, fn] of ours) expect(fn.Properties.Runtime).toBe('nodejs24.x');
  });

  it('no function role has a managed policy; each may write logs only to its own log group', () => {
    expect(ours.length).toBe(19);
    for (const [, fn] of ours) {
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
      expect(propsOf(template, roleId).ManagedPolicyArns).toBeUndefined();
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logs = roleStatements(template, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('logs:')),
      );
      expect(logs.map((s) => [actionsOf(s).sort(), flatten(s.Resource)])).toEqual([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], `\${${logGroup}.Arn}`],
      ]);
    }
  });
});

describe('backup bucket access logs', () => {
  it('the primary and the replica bucket log to an SSE-S3 access-log bucket of their stack', () => {
    const dual = synthApp({
      ...testConfig,
      stackName: 'RewindLogs',
      region: 'eu-west-1',
      replicaRegion: 'eu-central-1',
    });
    try {
      for (const [template, bucket] of [
        [dual.main, dual.stacks.main.store.bucket],
        [dual.replica(), dual.stacks.replica?.bucket],
      ] as const) {
        if (!bucket) throw new Error('no bucket');
        const stackOf = namesIn(bucket.stack);
        const logging = propsOf(template, stackOf.id(bucket)).LoggingConfiguration as {
          DestinationBucketName: { Ref: string };
        };
        const target = propsOf(template, logging.DestinationBucketName.Ref);
        expect(target.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        });
      }
    } finally {
      dual.cleanup();
    }
  });

  it('the gap queue moves a message to its dead-letter queue after 5 receives', () => {
    const queue = propsOf(template, id(stack.log.gapQueue));
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.log.gapDeadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
  });
});
