import type { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/config';
import type { ExecutionWatch } from '../../cdk/constructs/execution-watch';
import { logicalId, synthApp } from './synth';

// Prepare: one dual-region synthesis (bundling skipped): both stacks run state machines.
const app = synthApp(
  parseConfig(
    {
      stackName: 'RewindWatch',
      region: 'eu-west-1',
      replicaRegion: 'eu-central-1',
      clusters: [{ name: 'shop', tables: ['orders'] }],
    },
    'test',
  ),
);
afterAll(app.cleanup);
const { main, replica } = app.stacks;
if (!replica) throw new Error('expected a replica stack');

function expectWatch(
  template: Template,
  stack: Stack,
  watch: ExecutionWatch,
  machines: { node: { defaultChild?: unknown } }[],
) {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: machines.map((machine) => ({ Ref: logicalId(stack, machine) })),
      },
    },
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack, watch.executionEnded), 'Arn'] } })],
  });
  template.hasResourceProperties('AWS::Lambda::Function', {
    FunctionName: Match.absent(),
    Description: Match.stringLikeRegexp('execution ends without its Catch'),
  });
}

describe('executions that end without their Catch still end in the catalog', () => {
  it('the main stack routes FAILED, TIMED_OUT and ABORTED snapshot and restore executions to execution-ended', () => {
    // Act / Assess
    expectWatch(app.main, main, main.executions, [main.pipeline.stateMachine, main.restore.stateMachine]);
  });

  it('the replica stack does the same for its restore state machine', () => {
    // Act / Assess
    expectWatch(app.replica(), replica, replica.executions, [replica.restore.stateMachine]);
  });

  it('execution-ended may only read and update the catalog', () => {
    // Act
    const policies = Object.values(
      app.main.toJSON().Resources as Record<
        string,
        {
          Type: string;
          Properties: {
            Roles?: unknown[];
            PolicyDocument?: { Statement: { Sid?: string; Action: unknown }[] };
          };
        }
      >,
    )
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles).includes('ExecutionsExecutionEnded'));
    const actions = policies
      .flatMap((p) => p.Properties.PolicyDocument?.Statement ?? [])
      .filter((s) => s.Sid === 'Catalog')
      .map((s) => s.Action);
    // Assess
    expect(actions).toEqual([['dynamodb:GetItem', 'dynamodb:UpdateItem']]);
  });
});
