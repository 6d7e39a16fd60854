import type {
  ClusterCheckpoint,
  GapRecord,
  LogObjectRecord,
  ShardCheckpoint,
  ShardHold,
} from '../core/log-model';
import type { Micros } from '../core/time';

/** A forward move of one shard's checkpoint. */
export interface ShardAdvance {
  cluster: string;
  streamName: string;
  shardId: string;
  shippedTs: Micros;
  /** Stored only when given (the advancer does not change it). */
  lastSequenceNumber?: string;
  /** Stored when the item is created or had none. */
  parentShardIds?: string[];
  updatedAt: Micros;
  /**
   * Compare-and-set: write only if the stored lastSequenceNumber is this one (`null`: the item
   * has none). The advancer uses it so a concurrent ship-log move is never overwritten with
   * what it observed before.
   */
  ifLastSequenceNumber?: string | null;
}

export interface ShardClosure {
  cluster: string;
  streamName: string;
  shardId: string;
  parentShardIds: string[];
  endingSequenceNumber: string;
  closedAt: Micros;
}

/**
 * The log backup's part of the catalog (docs/design.md §3.4, §3.5, §5): shard checkpoints, holds,
 * gaps, the log-object index and the cluster checkpoint. Every item carries `schemaVersion`.
 * Checkpoints only ever move forward, through conditional writes, so a retried or late
 * invocation can never move one backwards.
 *
 * Implementations: `DynamoLogCatalog` (the catalog table, `pk`/`sk` strings, items under the
 * cluster's `pk`) and `MemoryLogCatalog` (tests); both pass test/contract/log-catalog-contract.ts.
 * Methods reject only on storage errors unless stated.
 */
export interface LogCatalog {
  /** `undefined` when the shard has no checkpoint yet. */
  getShardCheckpoint(cluster: string, shardId: string): Promise<ShardCheckpoint | undefined>;
  /** Every shard checkpoint of the cluster (closed ones included), in shardId order. */
  listShardCheckpoints(cluster: string): Promise<ShardCheckpoint[]>;
  /**
   * Create the checkpoint, or move it forward: writes iff there is none, or the stored
   * `shippedTs` is less than the new one, or equal with an earlier `lastSequenceNumber` than the
   * given one (records sharing an arrival millisecond); otherwise (equal, or backwards) it is a
   * no-op. With `ifLastSequenceNumber`, also only if that matches. Returns whether it wrote.
   */
  advanceShard(advance: ShardAdvance): Promise<boolean>;
  /** Mark the shard closed (ended in the stream, every record shipped). Idempotent; creates the item if needed. */
  markShardClosed(closure: ShardClosure): Promise<void>;

  /** Record a hold (idempotent: one per shard + sequence number; a repeat refreshes it). */
  putHold(hold: ShardHold): Promise<void>;
  /** Remove the hold on that record if there is one. */
  removeHold(cluster: string, shardId: string, sequenceNumber: string): Promise<void>;
  /** Every hold of the cluster, in (shardId, sequence) order. */
  listHolds(cluster: string): Promise<ShardHold[]>;

  /** Record a gap. Idempotent on `gapId`: returns false (and keeps the first) if it exists. */
  recordGap(gap: GapRecord): Promise<boolean>;
  /** Every gap of the cluster, by `fromTs` then `gapId`. */
  listGaps(cluster: string): Promise<GapRecord[]>;

  /** The index entry of the object at `key`, if any. */
  getLogObject(cluster: string, key: string): Promise<LogObjectRecord | undefined>;
  /** Index a log object; a rewrite of the same key replaces its entry. */
  putLogObject(object: LogObjectRecord): Promise<void>;
  /**
   * Exactly the objects of `table` holding some change in [fromTs, toTs] (minTs <= toTs and
   * maxTs >= fromTs), in key order.
   */
  listLogObjects(cluster: string, table: string, fromTs: Micros, toTs: Micros): Promise<LogObjectRecord[]>;
  /**
   * Remove the index entries of these log object keys (core/keys.ts `logKey`): the retention
   * sweep calls it once their objects are deleted. Idempotent: a key without an entry, or given
   * twice, is not an error. Any number of keys; after a rejection some entries may be gone and
   * others not, so the caller repeats the call.
   */
  deleteLogObjects(cluster: string, keys: string[]): Promise<void>;

  /** `undefined` until the advancer first computes one. */
  getClusterCheckpoint(cluster: string): Promise<ClusterCheckpoint | undefined>;
  /** Store it if there is none or it is greater than the stored one. Returns whether it wrote. */
  advanceClusterCheckpoint(checkpoint: ClusterCheckpoint): Promise<boolean>;
}
