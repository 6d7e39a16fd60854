import { z } from 'zod';

/**
 * Environment fragments shared by several functions. Each function's own schema lives in its
 * spec (functions/<name>/spec.ts) and is composed from these; a default is written once, here or
 * there. The CDK construct types the `environment` it passes from the same schema (`z.input<…>`),
 * so a missing variable fails `tsc`, not a production invocation.
 */
export const positiveInt = z.coerce.number().int().positive();

export const catalogTableName = { CATALOG_TABLE_NAME: z.string().min(1) };
export const storage = { ...catalogTableName, BUCKET_NAME: z.string().min(1) };

/**
 * Clock-skew margin between workers and change timestamps (docs/design.md §3.2), in ms. One per
 * stack: finalize-snapshot, start-restore and sweep-retention must agree (a snapshot's log window
 * starts at its startTs minus it).
 */
export const skewMargin = { SKEW_MARGIN_MS: positiveInt.default(1_000) };

/**
 * Log backup (docs/design.md §3.4). PROPAGATION_MARGIN_MS bounds how long a change takes from
 * DynamoDB to Kinesis (ApproximateCreationDateTime → ApproximateArrivalTimestamp) plus the
 * clock skew between DynamoDB, Kinesis and Lambda hosts: the cluster checkpoint is the least
 * shard checkpoint minus it, and a gap reaches back by it. ship-log warns when exceeded. One per
 * stack.
 */
export const propagationMargin = { PROPAGATION_MARGIN_MS: positiveInt.default(1_000) };

/** Map MaxConcurrency over the items a planning function hands the state machine. */
export const mapMaxConcurrency = { MAP_MAX_CONCURRENCY: positiveInt.default(40) };

/** Restore workers: BatchWriteItem requests in flight per worker (25 items each). */
export const writeConcurrency = { WRITE_CONCURRENCY: positiveInt.default(16) };

/** Restore workers check at most this often that their attempt is still current (`JobFence`). */
export const fenceInterval = { FENCE_INTERVAL_MS: positiveInt.default(1_000) };

export const snapshotStateMachineArn = { SNAPSHOT_STATE_MACHINE_ARN: z.string().min(1) };
export const restoreStateMachineArn = { RESTORE_STATE_MACHINE_ARN: z.string().min(1) };
