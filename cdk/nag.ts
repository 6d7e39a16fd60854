import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag (AwsSolutions) acknowledgments. Each finding that has no fix is acknowledged on the
 * construct it is about (it covers that construct and its children, never the stack) with the
 * evidence for why it stays: most are APIs without resource-level permissions, or names only
 * known at run time. The infra tests run the AwsSolutions pack on the default and the
 * dual-region app and require zero unacknowledged findings (test/infra/nag.test.ts); sources
 * are in docs/aws-fidelity.md ("cdk-nag").
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The finding id of an IAM5 wildcard on a resource (`Resource::<pattern>`). */
export const wildcardResource = (pattern: string) => `AwsSolutions-IAM5[Resource::${pattern}]`;
/** The finding id of an IAM5 wildcard on an action (`Action::s3:GetObject*`). */
export const wildcardAction = (action: string) => `AwsSolutions-IAM5[Action::${action}]`;

/**
 * A string with CloudFormation tokens as cdk-nag renders it in finding ids: `Ref X` → `<X>`,
 * `Fn::GetAtt [X, Arn]` → `<X.Arn>`, `Fn::Join` joined, e.g.
 * `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:name:*`.
 */
export function nagText(scope: IConstruct, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const record = (part ?? {}) as Record<string, unknown>;
    if (typeof record.Ref === 'string') return `<${record.Ref}>`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    // Anything else (e.g. `Fn::GetStackOutput`, a cross-region reference) as its JSON.
    return JSON.stringify(part);
  };
  return render(Stack.of(scope).resolve(value));
}

/** Evidence, one sentence each, reused by every acknowledgment of the same kind. */
export const EVIDENCE = {
  xray: 'X-Ray PutTraceSegments / PutTelemetryRecords (and GetSamplingRules / GetSamplingTargets) support no resource-level permissions: the X-Ray service authorization reference lists no resource types for them, so the tracing statement CDK adds for Tracing.ACTIVE / tracingEnabled must use "*".',
  logDelivery:
    'CloudWatch Logs vended log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) supports no resource-level permissions: the Step Functions logging guide requires Resource "*" for the state machine role.',
  executions:
    'Execution names are chosen at run time (one per backup or restore, and Map Run children named by Step Functions), so the statement names this state machine and allows any of its executions: `execution:<machine>:*` / `execution:<machine>/*`.',
  backupObjects:
    'Backup object keys are written at run time (one prefix per backup id and per log shard); the wildcard is limited to this bucket and, where the function writes only its own format, to the v1/ prefix.',
  grantActions:
    'Action wildcards come from the CDK grant helpers (Bucket.grantRead/grantWrite/grantPut, Key.grantEncryptDecrypt): s3:GetObject* / s3:GetBucket* / s3:List* / s3:DeleteObject* / s3:Abort* and kms:GenerateDataKey* / kms:ReEncrypt*, on this bucket and this key only.',
} as const;

/**
 * The findings of a function reading or writing backup objects through the CDK grant helpers:
 * the helpers' action wildcards and the object-key wildcard on `bucketArn` (whole bucket or
 * the `v1/` prefix). Acknowledged on the function's role only.
 */
export function acknowledgeBackupAccess(fn: { role?: IConstruct }, bucketArn: string): void {
  const role = fn.role;
  if (!role) throw new Error('function without role');
  for (const action of [
    's3:GetObject*',
    's3:GetBucket*',
    's3:List*',
    's3:DeleteObject*',
    's3:Abort*',
    'kms:GenerateDataKey*',
    'kms:ReEncrypt*',
  ]) {
    acknowledge(role, wildcardAction(action), EVIDENCE.grantActions);
  }
  for (const objects of [`${bucketArn}/*`, `${bucketArn}/v1/*`]) {
    acknowledge(role, wildcardResource(nagText(role, objects)), EVIDENCE.backupObjects);
  }
}

/**
 * The singleton Lambda function behind every `AwsCustomResource` of a stack (id
 * `AWS679f53fac002430cb0da5b7982bd2287`) is created by CDK with its own role and the managed
 * AWSLambdaBasicExecutionRole; `AwsCustomResource` takes no role or log-group option for it.
 * Call after creating an AwsCustomResource.
 */
export function acknowledgeCustomResourceProvider(scope: IConstruct): void {
  const provider = Stack.of(scope).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!provider) return;
  acknowledge(
    provider,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The AwsCustomResource provider function is created by aws-cdk-lib (custom-resources) with a role that has the managed AWSLambdaBasicExecutionRole; AwsCustomResourceProps has no option for its role or log permissions. Its runtime is already nodejs24.x (CDK picks the latest Node.js runtime it knows for the region). Its own statements are the ones passed in `policy`, scoped to the table / stream / catalog it touches.',
  );
}
