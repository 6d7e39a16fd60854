import { Aws, type Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { InvalidInputError } from '../../functions/core/errors';
import { assertTimeZone, toEventBridgeCron } from '../cron';
import { acknowledge, nagText, wildcardResource } from '../nag';

export interface ClusterSchedule {
  /** 5-field crontab (`15 3 * * *`) or EventBridge cron (`cron(15 3 * * ? *)`); see cdk/cron.ts. */
  cron: string;
  /** IANA time zone the cron is evaluated in. Default `Etc/UTC`. */
  timeZone?: string;
}

/** A schedule in EventBridge Scheduler's terms: `cron(…)` expression and an IANA time zone. */
export interface ResolvedSchedule {
  expression: string;
  timeZone: string;
}

/**
 * Translate a configured schedule (cdk/cron.ts) and check its time zone; errors name `field`
 * (`schedule`, `retentionSweep`) so a bad value points at the prop that carries it.
 */
export function resolveSchedule(
  field: string,
  schedule: ClusterSchedule,
  defaultTimeZone = 'Etc/UTC',
): ResolvedSchedule {
  const timeZone = schedule.timeZone ?? defaultTimeZone;
  try {
    const expression = toEventBridgeCron(schedule.cron);
    assertTimeZone(timeZone);
    return { expression, timeZone };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const part = error.field.replace(/^schedule /, '');
    throw new InvalidInputError(`${field} ${part}`, error.expected, { cause: error });
  }
}

export interface LambdaScheduleProps {
  /** The schedule's description. */
  description: string;
  /** The role's description. */
  roleDescription: string;
  schedule: ResolvedSchedule;
  target: lambda.IFunction;
  /** The event the function receives (JSON; Scheduler context attributes are filled in). */
  input: Record<string, unknown>;
  enabled?: boolean;
  /** Delivery retries by EventBridge Scheduler (the function's own errors: its async retries). */
  retryAttempts: number;
  maxEventAge: Duration;
}

export interface LambdaSchedule {
  schedule: scheduler.Schedule;
  role: iam.Role;
}

/**
 * An EventBridge Scheduler schedule (in the default group, no flexible window) that invokes one
 * Lambda function, with a role of its own: assumable only by EventBridge Scheduler for this
 * account's default schedule group (confused-deputy conditions), allowed only
 * `lambda:InvokeFunction` on that function (granted by the target). Creates `<id>` and
 * `<id>Role` in `scope`.
 */
export function lambdaSchedule(scope: Construct, id: string, props: LambdaScheduleProps): LambdaSchedule {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, `${id}Role`, {
    description: props.roleDescription,
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: {
          'aws:SourceAccount': Aws.ACCOUNT_ID,
          'aws:SourceArn': stack.formatArn({
            service: 'scheduler',
            resource: 'schedule-group',
            resourceName: 'default',
          }),
        },
      },
    }),
  });
  const schedule = new scheduler.Schedule(scope, id, {
    description: props.description,
    schedule: scheduler.ScheduleExpression.expression(
      props.schedule.expression,
      TimeZone.of(props.schedule.timeZone),
    ),
    timeWindow: scheduler.TimeWindow.off(),
    enabled: props.enabled ?? true,
    target: new targets.LambdaInvoke(props.target, {
      role,
      input: scheduler.ScheduleTargetInput.fromObject(props.input),
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
    }),
  });
  // The LambdaInvoke target grants `lambda:InvokeFunction` on the function and `<function>:*`.
  acknowledge(
    role,
    wildcardResource(nagText(role, `${props.target.functionArn}:*`)),
    'The Scheduler LambdaInvoke target (aws-cdk-lib aws-scheduler-targets) grants invoke on the function and its versions/aliases (`<function>:*`); the role can invoke only this one function.',
  );
  return { schedule, role };
}
