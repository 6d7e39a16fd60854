import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, METRIC_SERVICE } from '../functions/core/metric-names';
import { type FunctionClients, invokeSpec, parseEnv, type Telemetry } from '../functions/spec';
import { type AnySpec, allSpecs, substitutionOf, taskSpecs } from '../functions/specs';
import {
  dynamoClient,
  kinesisClient,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalConfig,
  s3Client,
  sfnClient,
} from './clients';
import type { LocalFunctionRegistry, LocalStateMachine } from './control-plane';

/**
 * The local stand-ins for Rewind's Lambda functions, derived from their specs
 * (functions/specs.ts): the same `invokeSpec` the Lambda handler runs, with the environment of
 * the local deployment (`localEnvironment`), clients bound to the emulators, and the deployed
 * timeout.
 */

export const SNAPSHOT_STATE_MACHINE = 'rewind-snapshot';
export const RESTORE_STATE_MACHINE = 'rewind-restore';
export const localStateMachineArn = (name: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;

/** Environment values, as a caller writes them (numbers are stringified like CDK does). */
export type EnvValues = Record<string, string | number | undefined>;

/**
 * Per-function changes to the local deployment, by function name:
 * `{ env: { 'scan-segment': { SCAN_PAGE_LIMIT: 50 } }, timeoutsMs: { 'scan-segment': 5_000 } }`.
 * Variables must be in the function's schema, names must be functions: a typo fails loudly.
 */
export interface LocalFunctionOverrides {
  /** Environment variables over the local deployment's (an `undefined` value removes one). */
  env?: Record<string, EnvValues>;
  /** The function's timeout (ms) instead of the deployed `timeoutSeconds`. */
  timeoutsMs?: Record<string, number>;
}

/** What every function of the local deployment may read: the stack's resources. */
export function stackEnvironment(cfg: LocalConfig): EnvValues {
  return {
    CATALOG_TABLE_NAME: cfg.catalogTable,
    BUCKET_NAME: cfg.bucket,
    SNAPSHOT_STATE_MACHINE_ARN: localStateMachineArn(SNAPSHOT_STATE_MACHINE),
    RESTORE_STATE_MACHINE_ARN: localStateMachineArn(RESTORE_STATE_MACHINE),
  };
}

/**
 * The local deployment's tuning, by function: what CDK props are on AWS (docs/design.md §8:
 * ≥ 2× cores segments locally, smaller segments, short waits). Unlisted variables keep the
 * spec's default.
 */
export function localTuning(): Record<string, EnvValues> {
  const cores = availableParallelism();
  return {
    'prepare-snapshot': {
      MIN_SEGMENTS: 2 * cores,
      MAX_SEGMENTS: 64,
      SEGMENT_TARGET_BYTES: 64 * 1024 * 1024,
      MAP_MAX_CONCURRENCY: 2 * cores,
    },
    'restore-create-tables': { MAP_MAX_CONCURRENCY: 2 * cores, TABLE_WAIT_SECONDS: 1 },
    'restore-load': { WRITE_CONCURRENCY: 8, FENCE_INTERVAL_MS: 500 },
    'restore-plan-replay': { MAP_MAX_CONCURRENCY: 2 * cores, MAX_PARTITIONS: 64 },
    'restore-replay': { WRITE_CONCURRENCY: 8, FENCE_INTERVAL_MS: 500 },
    'restore-resume': { RESUME_GRACE_MS: 3_000 },
  };
}

const knownFunction = (name: string) => {
  if (!allSpecs.some((spec) => spec.name === name))
    throw new Error(`local function overrides: no function named ${name}`);
};

function checkOverrides(overrides: LocalFunctionOverrides): void {
  for (const name of [...Object.keys(overrides.env ?? {}), ...Object.keys(overrides.timeoutsMs ?? {})])
    knownFunction(name);
}

/**
 * The exact environment variables `spec`'s function gets locally: the stack's values it reads,
 * the local tuning, then `overrides.env[spec.name]`; checked against the spec's schema. The
 * bundled mode (local/bundles.ts) hands the same to its worker threads.
 */
export function localEnvironment(
  spec: AnySpec,
  cfg: LocalConfig,
  overrides: LocalFunctionOverrides = {},
): Record<string, string> {
  checkOverrides(overrides);
  const own = overrides.env?.[spec.name] ?? {};
  const declared = new Set(Object.keys(spec.env.shape));
  for (const name of Object.keys(own))
    if (!declared.has(name))
      throw new Error(`local function overrides: ${spec.name} has no variable ${name}`);
  const merged: EnvValues = { ...stackEnvironment(cfg), ...localTuning()[spec.name], ...own };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged))
    if (declared.has(name) && value !== undefined) env[name] = String(value);
  parseEnv(spec.env, env);
  return env;
}

/** The function's local timeout (ms): the deployed one, or `overrides.timeoutsMs[spec.name]`. */
export const localTimeoutMs = (spec: AnySpec, overrides: LocalFunctionOverrides = {}): number =>
  overrides.timeoutsMs?.[spec.name] ?? spec.timeoutSeconds * 1000;

/** Metrics kept nowhere: the local cloud has no CloudWatch (EMF on stdout would only be noise). */
class LocalMetrics extends Metrics {
  override publishStoredMetrics(): this {
    this.clearMetrics();
    return this;
  }
  override singleMetric(): Metrics {
    return new LocalMetrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE, singleMetric: true });
  }
}

/** Logs of local invocations: silent unless REWIND_LOCAL_LOG_LEVEL (DEBUG, INFO, WARN, ERROR) asks. */
export function localTelemetry(): Telemetry {
  const level = process.env.REWIND_LOCAL_LOG_LEVEL?.toUpperCase() ?? 'SILENT';
  return {
    logger: new Logger({ serviceName: METRIC_SERVICE, logLevel: level as 'SILENT' }),
    metrics: new LocalMetrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE }),
  };
}

/** The emulator-bound clients every local function shares. */
export function localClients(cfg: LocalConfig): FunctionClients {
  return {
    dynamodb: dynamoClient(cfg),
    s3: s3Client(cfg),
    sfn: sfnClient(cfg),
    kinesis: kinesisClient(cfg),
  };
}

/** One registry entry per spec (functions/specs.ts `allSpecs`). */
export function createLocalFunctions(
  cfg: LocalConfig,
  overrides: LocalFunctionOverrides = {},
): LocalFunctionRegistry {
  checkOverrides(overrides);
  const clients = localClients(cfg);
  const telemetry = localTelemetry();
  return Object.fromEntries(
    allSpecs.map((spec) => {
      const env = localEnvironment(spec, cfg, overrides);
      return [
        spec.name,
        {
          timeoutMs: localTimeoutMs(spec, overrides),
          handler: (payload, context) =>
            invokeSpec(
              spec,
              payload,
              env,
              { clients, remainingMs: () => context.getRemainingTimeInMillis() },
              telemetry,
            ),
        },
      ];
    }),
  );
}

/** The state machine files, with each `${…FunctionArn}` substituted by the local function name. */
export function localStateMachines(): LocalStateMachine[] {
  const substitutions = Object.fromEntries(taskSpecs.map((spec) => [substitutionOf(spec), spec.name]));
  return [
    {
      name: SNAPSHOT_STATE_MACHINE,
      aslPath: resolve(import.meta.dirname, '../statemachines/snapshot.asl.json'),
      substitutions,
    },
    {
      name: RESTORE_STATE_MACHINE,
      aslPath: resolve(import.meta.dirname, '../statemachines/restore.asl.json'),
      substitutions,
    },
  ];
}
