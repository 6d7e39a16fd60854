import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { parseConfig, type RewindConfig } from '../../cdk/config';
import { RewindStack } from '../../cdk/rewind-stack';
import { createStacks, type RewindStacks } from '../../cdk/stacks';

/** The configuration most infra tests synthesize: two clusters, one scheduled. */
export const testConfig: RewindConfig = parseConfig(
  {
    stackName: 'RewindTest',
    clusters: [
      {
        name: 'shop',
        tables: ['orders', 'customers'],
        schedule: { cron: '15 3 * * *', timeZone: 'Europe/Paris' },
        retentionDays: 14,
      },
      { name: 'ledger', tables: ['arn:aws:dynamodb:eu-west-1:111122223333:table/entries'] },
    ],
  },
  'test config',
);

export interface Synthesized {
  app: App;
  stack: RewindStack;
  template: Template;
  assembly: CloudAssembly;
  /** Remove the assembly directory (call from afterAll). */
  cleanup: () => void;
}

/**
 * Synthesize a RewindStack once. Without `bundle`, NodejsFunction bundling is skipped through
 * the `aws:cdk:bundling-stacks` context (what `cdk synth --exclusively` uses): template
 * assertions do not need the bundles, and skipping esbuild keeps the tests fast.
 */
export function synth(config: RewindConfig = testConfig, options: { bundle?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'rewind-cdk-'));
  const app = new App({
    outdir,
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new RewindStack(app, config.stackName, {
    clusters: config.clusters,
    bucket: config.bucket,
    alarms: config.alarms,
  });
  const assembly = app.synth();
  const cleanup = () => rmSync(outdir, { recursive: true, force: true });
  return { app, stack, template: Template.fromStack(stack), assembly, cleanup };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error('construct has no default child');
  return stack.getLogicalId(child as Parameters<Stack['getLogicalId']>[0]);
}

/**
 * A CloudFormation value as text: `Ref`s become `${Name}`, `Fn::GetAtt` becomes `${Id.Attr}`,
 * `Fn::Join` is joined. Makes ARNs and JSON strings built from tokens comparable.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') return `\${${record.Ref}}`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
  }
  return JSON.stringify(value);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
  Principal?: unknown;
}

export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const statements: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = asList(policy.Properties.Roles as unknown[]).map(flatten);
    if (!roles.includes(`\${${roleLogicalId}}`)) continue;
    statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}

/** The resources of a statement, flattened to text. */
export const resourcesOf = (statement: Statement): string[] => asList(statement.Resource).map(flatten);
export const actionsOf = (statement: Statement): string[] => asList(statement.Action);

/** Allow statements naming `action`. */
export const allows = (statements: Statement[], action: string): Statement[] =>
  statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
/** Every resource an Allow of `action` names, flattened and sorted. */
export const resourcesAllowing = (statements: Statement[], action: string): string[] =>
  allows(statements, action).flatMap(resourcesOf).sort();
export const isDynamo = (s: Statement): boolean =>
  actionsOf(s).some((a) => a.startsWith('dynamodb:') || a === '*');

/** A table ARN in the stack's account and region, as `flatten` renders it. */
export const tableArn = (name: string): string =>
  `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${name}`;
/** The tables of `testConfig`'s clusters, as ARNs. */
export const protectedTableArns = [
  tableArn('orders'),
  tableArn('customers'),
  'arn:aws:dynamodb:eu-west-1:111122223333:table/entries',
];

type WithChild = { node: { defaultChild?: unknown } };

/** Logical ids and ARNs (as `flatten` renders them) of the constructs of one stack. */
export function namesIn(stack: Stack) {
  const id = (construct: WithChild) => logicalId(stack, construct);
  const arn = (construct: WithChild) => `\${${id(construct)}.Arn}`;
  const roleOf = (fn: { role?: WithChild }) => {
    if (!fn.role) throw new Error('function without role');
    return id(fn.role);
  };
  return { id, arn, roleOf };
}

export interface SynthesizedApp {
  stacks: RewindStacks;
  main: Template;
  /** The replica stack's template (throws without `replicaRegion`). */
  replica: () => Template;
  assembly: CloudAssembly;
  cleanup: () => void;
}

/**
 * Synthesize the app's stacks exactly as cdk/app.ts wires them (`createStacks`), bundling skipped:
 * with `replicaRegion`, the main stack and the replica stack.
 */
export function synthApp(config: RewindConfig): SynthesizedApp {
  const outdir = mkdtempSync(join(tmpdir(), 'rewind-cdk-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createStacks(app, config);
  const assembly = app.synth();
  const replica = () => {
    if (!stacks.replica) throw new Error('no replica stack: the config has no replicaRegion');
    return Template.fromStack(stacks.replica);
  };
  const cleanup = () => rmSync(outdir, { recursive: true, force: true });
  return { stacks, main: Template.fromStack(stacks.main), replica, assembly, cleanup };
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
/** The resources of one type, as [logical id, resource] pairs. */
export const resourcesOfType = (template: Template, type: string) =>
  Object.entries(template.toJSON().Resources as Resources).filter(([, r]) => r.Type === type);
/** The Properties of a resource (empty when absent). */
export const propsOf = (template: Template, logicalId: string): Record<string, unknown> =>
  (template.toJSON().Resources as Resources)[logicalId]?.Properties ?? {};
/** A statement's Resource (one or a list), flattened and sorted. */
export const sortedResources = (resource: unknown): string[] => asList(resource).map(flatten).sort();

/**
 * How another stack reads `value` from `producer` (a weak cross-stack reference): the
 * `Fn::GetStackOutput` of the producer's output that holds it.
 */
export function stackOutputRef(producer: Template, stackName: string, region: string, value: unknown) {
  const outputs = producer.toJSON().Outputs as Record<string, { Value: unknown }>;
  const name = Object.entries(outputs).find(
    ([, o]) => JSON.stringify(o.Value) === JSON.stringify(value),
  )?.[0];
  if (!name) throw new Error(`no output of ${stackName} holds ${JSON.stringify(value)}`);
  return { 'Fn::GetStackOutput': { StackName: stackName, Region: region, OutputName: name } };
}
