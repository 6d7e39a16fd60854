import { z } from 'zod';
import { CATALOG_SCHEMA_VERSION } from './catalog-model';

/**
 * Catalog items of the log backup (docs/design.md §3.4, §3.5, §5). They live in the catalog table
 * next to the cluster and its backups; every item carries `schemaVersion`. Instants are
 * microseconds since the epoch.
 */
export const LOG_SCHEMA_VERSION = CATALOG_SCHEMA_VERSION;

const micros = z.number().int();
const sequenceNumber = z.string().regex(/^\d+$/);

/**
 * How far one shard of the cluster's stream is shipped. `shippedTs` is arrival-time based:
 * every record of this shard whose Kinesis ApproximateArrivalTimestamp is <= `shippedTs` is in
 * a log object (or covered by a hold/gap). It only ever moves forward.
 */
export const shardCheckpoint = z.object({
  schemaVersion: z.number().int(),
  cluster: z.string(),
  streamName: z.string(),
  shardId: z.string(),
  /** ParentShardId and AdjacentParentShardId from ListShards, when the advancer has seen them. */
  parentShardIds: z.array(z.string()).default([]),
  shippedTs: micros,
  /** The last record of the contiguous shipped prefix; the advancer reads the shard after it. */
  lastSequenceNumber: sequenceNumber.optional(),
  /** Set once the shard is closed in the stream and every record of it is shipped. */
  closed: z.boolean().default(false),
  endingSequenceNumber: sequenceNumber.optional(),
  closedAt: micros.optional(),
  updatedAt: micros,
});
export type ShardCheckpoint = z.infer<typeof shardCheckpoint>;

/**
 * A record that failed to ship and may still be dropped: ship-log sets it on a failing batch,
 * removes it when a retry ships the record, record-gap removes it once the gap is recorded.
 * While it exists the cluster checkpoint stays at or below `ts`, so the checkpoint never runs
 * past a dropped record before its gap is in the catalog.
 */
export const shardHold = z.object({
  schemaVersion: z.number().int(),
  cluster: z.string(),
  shardId: z.string(),
  sequenceNumber,
  /** Arrival of the held record minus 1 µs. */
  ts: micros,
  reason: z.string(),
  heldAt: micros,
});
export type ShardHold = z.infer<typeof shardHold>;

/**
 * Changes that were finally dropped (docs/design.md §3.5). `fromTs`/`toTs` bound the change time
 * (ApproximateCreationDateTime) of every dropped change; restore refuses any replay that
 * crosses the range. `table` is absent when the dropped records could not be read, which
 * means "any table of the cluster".
 */
export const gapRecord = z.object({
  schemaVersion: z.number().int(),
  gapId: z.string(),
  cluster: z.string(),
  table: z.string().optional(),
  shardId: z.string(),
  startSequenceNumber: sequenceNumber,
  endSequenceNumber: sequenceNumber,
  fromTs: micros,
  toTs: micros,
  records: z.number().int().nonnegative(),
  reason: z.string(),
  recordedAt: micros,
});
export type GapRecord = z.infer<typeof gapRecord>;

/** Deterministic, so the same dropped batch recorded twice is one gap. */
export const gapId = (shardId: string, startSequenceNumber: string, endSequenceNumber: string) =>
  `${shardId}:${startSequenceNumber}-${endSequenceNumber}`;

/** One log object (gzip NDJSON of ChangeRecords) and what a restore needs to pick and verify it. */
export const logObjectRecord = z.object({
  schemaVersion: z.number().int(),
  cluster: z.string(),
  key: z.string(),
  table: z.string(),
  shardId: z.string(),
  firstSequenceNumber: sequenceNumber,
  lastSequenceNumber: sequenceNumber,
  /** Least and greatest change time (µs) of the records in the object; same UTC hour. */
  minTs: micros,
  maxTs: micros,
  records: z.number().int().positive(),
  rawBytes: z.number().int().nonnegative(),
  /** Stored (gzip) size and SHA-256 of the stored bytes. */
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  writtenAt: micros,
});
export type LogObjectRecord = z.infer<typeof logObjectRecord>;

/** The cluster checkpoint (docs/design.md §3.4): PITR to T is allowed only for T <= `checkpoint`. */
export const clusterCheckpoint = z.object({
  schemaVersion: z.number().int(),
  cluster: z.string(),
  checkpoint: micros,
  computedAt: micros,
  marginMicros: micros,
  /** The shard (or hold) that bounds the checkpoint. */
  limitedBy: z.string(),
  activeShards: z.number().int().nonnegative(),
});
export type ClusterCheckpoint = z.infer<typeof clusterCheckpoint>;
