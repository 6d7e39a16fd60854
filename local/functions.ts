import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { nowMicros } from '../functions/adapters/clock';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../functions/adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../functions/adapters/dynamo-restore-catalog';
import { SfnRestoreExecutions } from '../functions/adapters/restore-job';
import { ManifestCache } from '../functions/adapters/restore-objects';
import { DynamoTargetTables } from '../functions/adapters/restore-tables';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import { run as advanceCheckpoint } from '../functions/advance-checkpoint/run';
import { run as deleteBackup } from '../functions/delete-backup/run';
import {
  deleteBackupFunction,
  logFunctions,
  restoreFunctions,
  resumeRestoreFunction,
  snapshotFunctions,
  startBackupFunction,
  startRestoreFunction,
  sweepRetentionFunction,
} from '../functions/env';
import { run as failSnapshot } from '../functions/fail-snapshot/run';
import { run as finalizeSnapshot } from '../functions/finalize-snapshot/run';
import { run as prepareSnapshot } from '../functions/prepare-snapshot/run';
import { run as recordGap } from '../functions/record-gap/run';
import { run as restoreCreateTables } from '../functions/restore-create-tables/run';
import { run as restoreFail } from '../functions/restore-fail/run';
import { run as restoreLoad } from '../functions/restore-load/run';
import { run as restorePlanReplay } from '../functions/restore-plan-replay/run';
import { run as restoreReplay } from '../functions/restore-replay/run';
import { run as restoreResume } from '../functions/restore-resume/run';
import { run as restoreVerify } from '../functions/restore-verify/run';
import { run as scanSegment } from '../functions/scan-segment/run';
import { run as shipLog } from '../functions/ship-log/run';
import { run as startBackup } from '../functions/start-backup/run';
import { run as startRestore } from '../functions/start-restore/run';
import { DEFAULT_FAILED_GRACE_MICROS, run as sweepRetention } from '../functions/sweep-retention/run';
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
import { bareRegistry } from './sfn-runner';

/**
 * The local stand-ins for Rewind's Lambda functions: the same `run(event, deps)` the Lambda
 * handlers call, with dependencies pointing at the emulators. Settings play the role of the
 * function environment (functions/env.ts) and of the Lambda timeout.
 */
export interface LocalFunctionSettings {
  /** Simulated Lambda timeout of scan-segment; its LastEvaluatedKey loop starts below it. */
  segmentTimeLimitMs: number;
  timeReserveMs: number;
  chunkMaxRawBytes: number;
  pageLimit?: number;
  /** DESIGN.md §8: ≥ 2× cores locally. */
  minSegments: number;
  maxSegments: number;
  targetBytesPerSegment: number;
  maxConcurrency: number;
  skewMarginMs: number;
  /** Log backup's propagation margin (functions/env.ts PROPAGATION_MARGIN_MS). */
  propagationMarginMs: number;
  /** Restore settings (functions/env.ts restore*Env); defaults from `defaultRestoreSettings`. */
  restore?: Partial<LocalRestoreSettings>;
}

export const defaultLocalSettings = (): LocalFunctionSettings => ({
  segmentTimeLimitMs: 900_000,
  timeReserveMs: 60_000,
  chunkMaxRawBytes: 64 * 1024 * 1024,
  minSegments: 2 * availableParallelism(),
  maxSegments: 64,
  targetBytesPerSegment: 64 * 1024 * 1024,
  maxConcurrency: 2 * availableParallelism(),
  skewMarginMs: 1_000,
  propagationMarginMs: 1_000,
});

export const SNAPSHOT_STATE_MACHINE = 'rewind-snapshot';
export const localStateMachineArn = (name: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;

export function createLocalFunctions(
  cfg: LocalConfig,
  overrides: Partial<LocalFunctionSettings> = {},
): LocalFunctionRegistry {
  const settings = { ...defaultLocalSettings(), ...overrides };
  const restore = { ...defaultRestoreSettings(), ...overrides.restore };
  const dynamodb = dynamoClient(cfg);
  const catalog = new DynamoCatalog(dynamodb, cfg.catalogTable);
  const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);
  const sfn = sfnClient(cfg);
  const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
  const kinesis = kinesisClient(cfg);

  const snapshotAndLog: Record<string, (event: unknown) => Promise<unknown>> = {
    [snapshotFunctions.prepareSnapshot.name]: (event) =>
      prepareSnapshot(event, {
        catalog,
        dynamodb,
        now: nowMicros,
        config: {
          targetBytesPerSegment: settings.targetBytesPerSegment,
          minSegments: settings.minSegments,
          maxSegments: settings.maxSegments,
          maxConcurrency: settings.maxConcurrency,
        },
      }),
    [snapshotFunctions.scanSegment.name]: (event) => {
      const deadline = Date.now() + settings.segmentTimeLimitMs;
      return scanSegment(event, {
        dynamodb,
        store,
        remainingMs: () => deadline - Date.now(),
        config: {
          chunkMaxRawBytes: settings.chunkMaxRawBytes,
          timeReserveMs: settings.timeReserveMs,
          pageLimit: settings.pageLimit,
        },
      });
    },
    [snapshotFunctions.finalizeSnapshot.name]: (event) =>
      finalizeSnapshot(event, {
        catalog,
        dynamodb,
        store,
        now: nowMicros,
        config: { skewMarginMicros: settings.skewMarginMs * 1000 },
      }),
    [snapshotFunctions.failSnapshot.name]: (event) => failSnapshot(event, { catalog }),
    [startBackupFunction.name]: (event) =>
      startBackup(event, {
        catalog,
        sfn,
        stateMachineArn: localStateMachineArn(SNAPSHOT_STATE_MACHINE),
        now: nowMicros,
      }),
    // Lambda's Kinesis event in, `{ batchItemFailures }` out (what the event source reads).
    [logFunctions.shipLog.name]: async (event) => {
      const { batchItemFailures } = await shipLog(event, { store, logCatalog, now: nowMicros });
      return { batchItemFailures };
    },
    [logFunctions.recordGap.name]: (event) =>
      recordGap(event, {
        logCatalog,
        now: nowMicros,
        config: { marginMicros: settings.propagationMarginMs * 1000 },
      }),
    [logFunctions.advanceCheckpoint.name]: (event) =>
      advanceCheckpoint(event, {
        catalog,
        logCatalog,
        kinesis,
        now: nowMicros,
        config: { marginMicros: settings.propagationMarginMs * 1000, shardConcurrency: 8 },
      }),
    [deleteBackupFunction.name]: (event) => deleteBackup(event, { catalog, store, now: nowMicros }),
    [sweepRetentionFunction.name]: (event) =>
      sweepRetention(event, {
        catalog,
        logCatalog,
        store,
        now: nowMicros,
        config: {
          marginMicros: settings.skewMarginMs * 1000,
          failedGraceMicros: DEFAULT_FAILED_GRACE_MICROS,
        },
      }),
  };
  return { ...bareRegistry(snapshotAndLog), ...restoreLocalFunctions(cfg, restore, settings.skewMarginMs) };
}

/** The state machine files, with each `${…FunctionArn}` substituted by the local function name. */
export function localStateMachines(): LocalStateMachine[] {
  const substitutions = Object.fromEntries(
    [...Object.values(snapshotFunctions), ...Object.values(restoreFunctions)].map((f) => [
      f.substitution,
      f.name,
    ]),
  );
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

// ---------------------------------------------------------------------------------------------
// Restore (DESIGN.md §3, §8): the same run() functions as the restore handlers.

export const RESTORE_STATE_MACHINE = 'rewind-restore';

export interface LocalRestoreSettings {
  /** Simulated Lambda timeout of restore-load; its nextChunk loop starts below it. */
  loadTimeLimitMs: number;
  loadTimeReserveMs: number;
  writeConcurrency: number;
  maxConcurrency: number;
  targetRecordsPerPartition: number;
  maxPartitions: number;
  tableWaitSeconds: number;
  /** See functions/env.ts RESUME_GRACE_MS; workers check their attempt every fenceIntervalMs. */
  resumeGraceMs: number;
  fenceIntervalMs: number;
}

export const defaultRestoreSettings = (): LocalRestoreSettings => ({
  loadTimeLimitMs: 900_000,
  loadTimeReserveMs: 120_000,
  writeConcurrency: 8,
  maxConcurrency: 2 * availableParallelism(),
  targetRecordsPerPartition: 250_000,
  maxPartitions: 64,
  tableWaitSeconds: 1,
  resumeGraceMs: 3_000,
  fenceIntervalMs: 500,
});

export function restoreLocalFunctions(
  cfg: LocalConfig,
  settings: LocalRestoreSettings,
  skewMarginMs: number,
): LocalFunctionRegistry {
  const dynamodb = dynamoClient(cfg);
  const catalog = new DynamoCatalog(dynamodb, cfg.catalogTable);
  const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
  const restoreCatalog = new DynamoRestoreCatalog(dynamodb, cfg.catalogTable);
  const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);
  const tables = new DynamoTargetTables(dynamodb);
  const executions = new SfnRestoreExecutions(sfnClient(cfg), localStateMachineArn(RESTORE_STATE_MACHINE));
  const manifests = new ManifestCache();
  const now = nowMicros;
  const mapConcurrency = settings.maxConcurrency;
  return bareRegistry({
    [startRestoreFunction.name]: (event) =>
      startRestore(event, {
        catalog,
        logCatalog,
        restoreCatalog,
        tables,
        executions,
        now,
        config: { skewMarginMicros: skewMarginMs * 1000 },
      }),
    [resumeRestoreFunction.name]: (event) =>
      restoreResume(event, { restoreCatalog, executions, now, config: { graceMs: settings.resumeGraceMs } }),
    [restoreFunctions.createTables.name]: (event) =>
      restoreCreateTables(event, {
        restoreCatalog,
        store,
        tables,
        now,
        manifests,
        config: { maxConcurrency: mapConcurrency, waitSeconds: settings.tableWaitSeconds },
      }),
    [restoreFunctions.load.name]: (event) => {
      const deadline = Date.now() + settings.loadTimeLimitMs;
      return restoreLoad(event, {
        restoreCatalog,
        store,
        tables,
        manifests,
        remainingMs: () => deadline - Date.now(),
        config: {
          writeConcurrency: settings.writeConcurrency,
          timeReserveMs: settings.loadTimeReserveMs,
          fenceIntervalMs: settings.fenceIntervalMs,
        },
      });
    },
    [restoreFunctions.planReplay.name]: (event) =>
      restorePlanReplay(event, {
        restoreCatalog,
        logCatalog,
        store,
        now,
        manifests,
        config: {
          targetRecordsPerPartition: settings.targetRecordsPerPartition,
          maxPartitions: settings.maxPartitions,
          maxConcurrency: mapConcurrency,
        },
      }),
    [restoreFunctions.replay.name]: (event) =>
      restoreReplay(event, {
        restoreCatalog,
        logCatalog,
        store,
        tables,
        config: { writeConcurrency: settings.writeConcurrency, fenceIntervalMs: settings.fenceIntervalMs },
      }),
    [restoreFunctions.verify.name]: (event) =>
      restoreVerify(event, { restoreCatalog, store, tables, now, manifests }),
    [restoreFunctions.fail.name]: (event) => restoreFail(event, { restoreCatalog, now }),
  });
}
