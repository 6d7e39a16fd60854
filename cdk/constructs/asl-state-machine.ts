import { readFileSync } from 'node:fs';
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledge, EVIDENCE, nagText, wildcardResource } from '../nag';
import { fromRoot } from '../paths';

export interface AslStateMachineProps {
  /** Fixed name: `<stackName>-<suffix>`. */
  nameSuffix: string;
  /** The role's description. */
  description: string;
  /** ASL file relative to the repository root (the same file the local runner executes). */
  definitionPath: string;
  /** `${Substitution}` in the ASL → the function it invokes. */
  functions: { substitution: string; fn: lambda.IFunction }[];
  /**
   * The execution timeout. It is the ASL file's top-level `TimeoutSeconds` (CDK's `timeout` only
   * reaches chain-built definitions, not a definition from a file), so the deployed definition
   * and the local runner, which reads the same file, both stop a stuck execution; synth fails
   * unless the file says exactly this.
   */
  timeout: Duration;
}

/**
 * The ASL file's top-level TimeoutSeconds, checked against the construct's `timeout`: the
 * deployed definition is the file, so this is what AWS enforces.
 */
export function checkedDefinitionTimeout(definitionPath: string, timeout: Duration): number {
  const asl = JSON.parse(readFileSync(fromRoot(definitionPath), 'utf8')) as { TimeoutSeconds?: unknown };
  const expected = timeout.toSeconds();
  if (asl.TimeoutSeconds !== expected) {
    throw new Error(
      `${definitionPath}: top-level TimeoutSeconds is ${JSON.stringify(asl.TimeoutSeconds)}, the state machine's timeout is ${expected} s; they must agree`,
    );
  }
  return expected;
}

/**
 * A Standard state machine from an ASL file, with Distributed Map (its items run as child
 * executions of the same machine): a role allowed to invoke exactly its functions and to start,
 * describe, stop and redrive its own executions; X-Ray; errors logged. Resources are created in
 * `scope` (ids `StateMachineRole`, `StateMachineLogs`, `StateMachine`) so both pipelines keep
 * their logical ids.
 */
export function aslStateMachine(scope: Construct, props: AslStateMachineProps) {
  const stack = Stack.of(scope);
  // The name is fixed so that its own ARN (and its executions') can be written into its role's
  // policy without a reference to the state machine itself.
  const stateMachineName = `${stack.stackName}-${props.nameSuffix}`;
  const stateMachineArn = stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const executionArn = (suffix: string) =>
    stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}${suffix}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

  const role = new iam.Role(scope, 'StateMachineRole', {
    assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description: props.description,
  });
  // A Distributed Map runs each item as a child execution of this same state machine.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'DistributedMapStartChildExecutions',
      actions: ['states:StartExecution'],
      resources: [stateMachineArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'DistributedMapManageChildExecutions',
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      // Executions of this state machine (`name:exec`) and Map Run children (`name/label:exec`).
      resources: [executionArn(':*'), executionArn('/*')],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'DistributedMapRedrive',
      actions: ['states:RedriveExecution'],
      resources: [executionArn('/*')],
    }),
  );

  checkedDefinitionTimeout(props.definitionPath, props.timeout);
  const logGroup = new logs.LogGroup(scope, 'StateMachineLogs', {
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromFile(fromRoot(props.definitionPath)),
    definitionSubstitutions: Object.fromEntries(
      props.functions.map(({ substitution, fn }) => [substitution, fn.functionArn]),
    ),
    role,
    tracingEnabled: true,
    // Every state transition is logged, without inputs and outputs (they hold backup metadata).
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  // The definition names each function by its unqualified ARN, so no `:*` (versions, aliases)
  // as `grantInvoke` would add.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeTaskFunctions',
      actions: ['lambda:InvokeFunction'],
      resources: props.functions.map(({ fn }) => fn.functionArn),
    }),
  );
  acknowledge(role, wildcardResource('*'), `${EVIDENCE.xray} ${EVIDENCE.logDelivery}`);
  for (const suffix of [':*', '/*']) {
    acknowledge(role, wildcardResource(nagText(role, executionArn(suffix))), EVIDENCE.executions);
  }
  /** `executionArn(':*')`: this machine's executions, for callers that describe them. */
  return { stateMachine, stateMachineName, executionArn };
}
