import { z } from 'zod';

/**
 * One zod schema per function environment. The handler validates `process.env` with it, and the
 * CDK construct types the `environment` it passes from the same schema (`z.input<…>`), so a
 * missing variable fails `tsc`, not a production invocation.
 */
export const positiveInt = z.coerce.number().int().positive();

/** Environment fragments shared by several functions (each spec composes its schema from them). */
export const catalogTableName = { CATALOG_TABLE_NAME: z.string().min(1) };
export const storage = { ...catalogTableName, BUCKET_NAME: z.string().min(1) };
/** Clock-skew margin between workers and change timestamps (docs/design.md §3.2), in ms; one per stack. */
export const skewMargin = { SKEW_MARGIN_MS: positiveInt.default(1_000) };

export const prepareSnapshotEnv = z.object({
  ...storage,
  /** Aim for this many raw bytes per scan segment (DESIGN.md §8: ~1 GB on AWS). */
  SEGMENT_TARGET_BYTES: positiveInt.default(1_000_000_000),
  MIN_SEGMENTS: positiveInt.default(1),
  MAX_SEGMENTS: positiveInt.default(1000),
  /** Map MaxConcurrency over (table, segment) items. */
  MAP_MAX_CONCURRENCY: positiveInt.default(40),
});

export const scanSegmentEnv = z.object({
  ...storage,
  /** A chunk is closed once it holds this many raw (uncompressed) bytes. */
  CHUNK_MAX_RAW_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** Stop and hand back LastEvaluatedKey when less than this much invocation time is left. */
  TIME_RESERVE_MS: positiveInt.default(60_000),
  /** Scan page size (items); DynamoDB also stops a page at 1 MB. */
  SCAN_PAGE_LIMIT: positiveInt.optional(),
});

export const finalizeSnapshotEnv = z.object({
  ...storage,
  /** Clock-skew margin between workers and change timestamps (DESIGN.md §3.2), in ms. */
  SKEW_MARGIN_MS: positiveInt.default(1_000),
});

export const failSnapshotEnv = z.object(storage);

export const startBackupEnv = z.object({
  CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME,
  SNAPSHOT_STATE_MACHINE_ARN: z.string().min(1),
});

export type PrepareSnapshotEnv = z.infer<typeof prepareSnapshotEnv>;
export type ScanSegmentEnv = z.infer<typeof scanSegmentEnv>;
export type FinalizeSnapshotEnv = z.infer<typeof finalizeSnapshotEnv>;
export type FailSnapshotEnv = z.infer<typeof failSnapshotEnv>;
export type StartBackupEnv = z.infer<typeof startBackupEnv>;

export { parseEnv } from './spec';

/**
 * The functions of the snapshot pipeline: name (local and in the stack), handler entry, and the
 * name of the ASL definition substitution that carries its ARN. CDK and the local runner both
 * read this table, so the state machine resolves to the same code everywhere.
 */
export const snapshotFunctions = {
  prepareSnapshot: {
    name: 'prepare-snapshot',
    entry: 'functions/prepare-snapshot/handler.ts',
    substitution: 'PrepareSnapshotFunctionArn',
  },
  scanSegment: {
    name: 'scan-segment',
    entry: 'functions/scan-segment/handler.ts',
    substitution: 'ScanSegmentFunctionArn',
  },
  finalizeSnapshot: {
    name: 'finalize-snapshot',
    entry: 'functions/finalize-snapshot/handler.ts',
    substitution: 'FinalizeSnapshotFunctionArn',
  },
  failSnapshot: {
    name: 'fail-snapshot',
    entry: 'functions/fail-snapshot/handler.ts',
    substitution: 'FailSnapshotFunctionArn',
  },
} as const;

export const startBackupFunction = {
  name: 'start-backup',
  entry: 'functions/start-backup/handler.ts',
} as const;

/**
 * Log backup (DESIGN.md §3.4). PROPAGATION_MARGIN_MS bounds how long a change takes from
 * DynamoDB to Kinesis (ApproximateCreationDateTime → ApproximateArrivalTimestamp) plus the
 * clock skew between DynamoDB, Kinesis and Lambda hosts: the cluster checkpoint is the least
 * shard checkpoint minus it, and a gap reaches back by it. ship-log warns when exceeded.
 */
export const propagationMargin = { PROPAGATION_MARGIN_MS: positiveInt.default(1_000) };

export const shipLogEnv = z.object({ ...storage, ...propagationMargin });

export const recordGapEnv = z.object({
  CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME,
  ...propagationMargin,
});

export const advanceCheckpointEnv = z.object({
  CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME,
  ...propagationMargin,
  /** GetRecords calls in flight per cluster. */
  SHARD_CONCURRENCY: positiveInt.default(8),
});

export type ShipLogEnv = z.infer<typeof shipLogEnv>;
export type RecordGapEnv = z.infer<typeof recordGapEnv>;
export type AdvanceCheckpointEnv = z.infer<typeof advanceCheckpointEnv>;

/**
 * The log-backup functions: name (local and in the stack) and handler entry.
 * - ship-log: Kinesis event source on the cluster's stream (ReportBatchItemFailures,
 *   ParallelizationFactor 1, on-failure destination → the queue record-gap reads).
 * - record-gap: that queue (or, locally, the poller with the on-failure record itself).
 * - advance-checkpoint: EventBridge schedule, every minute.
 */
export const logFunctions = {
  shipLog: { name: 'ship-log', entry: 'functions/ship-log/handler.ts' },
  recordGap: { name: 'record-gap', entry: 'functions/record-gap/handler.ts' },
  advanceCheckpoint: { name: 'advance-checkpoint', entry: 'functions/advance-checkpoint/handler.ts' },
} as const;

/**
 * Restore (DESIGN.md §3, §8). SKEW_MARGIN_MS must equal finalize-snapshot's: a snapshot's log
 * window starts at its startTs minus it.
 */
const restoreMapConcurrency = { MAP_MAX_CONCURRENCY: positiveInt.default(40) };
/** BatchWriteItem requests in flight per worker (25 items each). */
const writeConcurrency = { WRITE_CONCURRENCY: positiveInt.default(16) };

export const startRestoreEnv = z.object({
  CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME,
  RESTORE_STATE_MACHINE_ARN: z.string().min(1),
  SKEW_MARGIN_MS: positiveInt.default(1_000),
});

export const resumeRestoreEnv = z.object({
  CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME,
  RESTORE_STATE_MACHINE_ARN: z.string().min(1),
  /** The new attempt waits this long after the failure: workers in flight notice and stop first. */
  RESUME_GRACE_MS: positiveInt.default(30_000),
});

export const restoreCreateTablesEnv = z.object({
  ...storage,
  ...restoreMapConcurrency,
  /** AWS: pre-warm new tables to this many writes/s (unset: the on-demand default, 4,000/s). */
  WARM_WRITES_PER_SECOND: positiveInt.optional(),
  /** Wait between checks while a new table is not ACTIVE yet. */
  TABLE_WAIT_SECONDS: positiveInt.default(10),
});

export const restoreLoadEnv = z.object({
  ...storage,
  ...writeConcurrency,
  /** Stop after a chunk and hand back `nextChunk` when less than this is left. */
  TIME_RESERVE_MS: positiveInt.default(120_000),
});

export const restorePlanReplayEnv = z.object({
  ...storage,
  ...restoreMapConcurrency,
  /** A replay worker holds at most about this many change records (its partition). */
  TARGET_RECORDS_PER_PARTITION: positiveInt.default(250_000),
  MAX_PARTITIONS: positiveInt.default(256),
});

export const restoreReplayEnv = z.object({ ...storage, ...writeConcurrency });
export const restoreVerifyEnv = z.object(storage);
export const restoreFailEnv = z.object({ CATALOG_TABLE_NAME: storage.CATALOG_TABLE_NAME });

/** The restore state machine's functions, as `snapshotFunctions` (CDK and the local runner read it). */
export const restoreFunctions = {
  createTables: {
    name: 'restore-create-tables',
    entry: 'functions/restore-create-tables/handler.ts',
    substitution: 'RestoreCreateTablesFunctionArn',
  },
  load: {
    name: 'restore-load',
    entry: 'functions/restore-load/handler.ts',
    substitution: 'RestoreLoadFunctionArn',
  },
  planReplay: {
    name: 'restore-plan-replay',
    entry: 'functions/restore-plan-replay/handler.ts',
    substitution: 'RestorePlanReplayFunctionArn',
  },
  replay: {
    name: 'restore-replay',
    entry: 'functions/restore-replay/handler.ts',
    substitution: 'RestoreReplayFunctionArn',
  },
  verify: {
    name: 'restore-verify',
    entry: 'functions/restore-verify/handler.ts',
    substitution: 'RestoreVerifyFunctionArn',
  },
  fail: {
    name: 'restore-fail',
    entry: 'functions/restore-fail/handler.ts',
    substitution: 'RestoreFailFunctionArn',
  },
} as const;

/** Console functions: start a restore; run a FAILED one again. */
export const startRestoreFunction = {
  name: 'start-restore',
  entry: 'functions/start-restore/handler.ts',
} as const;
export const resumeRestoreFunction = {
  name: 'restore-resume',
  entry: 'functions/restore-resume/handler.ts',
} as const;

/** Retention sweep (issue 5). SKEW_MARGIN_MS must equal finalize-snapshot's. */
export const sweepRetentionEnv = z.object({
  ...storage,
  SKEW_MARGIN_MS: positiveInt.default(1_000),
  /** FAILED backups younger than this keep their objects. */
  FAILED_GRACE_HOURS: positiveInt.default(48),
});
export type SweepRetentionEnv = z.infer<typeof sweepRetentionEnv>;

export const sweepRetentionFunction = {
  name: 'sweep-retention',
  entry: 'functions/sweep-retention/handler.ts',
} as const;

/** Console function: delete one backup (`{"cluster", "backupId"}`); sweep-retention calls the same run(). */
export const deleteBackupEnv = z.object(storage);
export type DeleteBackupEnv = z.infer<typeof deleteBackupEnv>;

export const deleteBackupFunction = {
  name: 'delete-backup',
  entry: 'functions/delete-backup/handler.ts',
} as const;
