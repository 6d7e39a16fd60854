import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { executionEndedSpec } from '../../functions/execution-ended/spec';
import { specFunction } from './node-function';

export interface ExecutionWatchProps {
  /** The catalog (primary table or its replica). */
  catalog: dynamodb.ITable | dynamodb.ITableV2;
  /** The state machines whose executions write a backup or restore record. */
  stateMachines: sfn.IStateMachine[];
}

/**
 * docs/design.md §3.10: an execution that ends without its Catch (StopExecution, the execution
 * timeout, States.DataLimitExceeded, a killed runtime) still ends in the catalog. Step Functions
 * emits "Step Functions Execution Status Change" events to the default event bus; a rule on
 * FAILED, TIMED_OUT and ABORTED executions of these state machines invokes execution-ended,
 * which marks the record FAILED and frees the cluster lock (docs/aws-fidelity.md).
 */
export class ExecutionWatch extends Construct {
  readonly executionEnded: NodejsFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ExecutionWatchProps) {
    super(scope, id);
    const { catalog } = props;
    this.executionEnded = specFunction(this, 'ExecutionEnded', executionEndedSpec, {
      CATALOG_TABLE_NAME: catalog.tableName,
    });
    this.executionEnded.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'Catalog',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [catalog.tableArn],
      }),
    );
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Rewind: executions that ended without their Catch mark their backup or restore FAILED',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: props.stateMachines.map((machine) => machine.stateMachineArn),
        },
      },
      targets: [new targets.LambdaFunction(this.executionEnded, { retryAttempts: 8 })],
    });
  }
}
