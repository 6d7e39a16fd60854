import { compareSequenceNumbers } from './log-format';
import type { ShardCheckpoint, ShardHold } from './log-model';
import type { Micros } from './time';

/**
 * The checkpoint arithmetic (docs/design.md §3.4), pure: callers pass `now` and what they read.
 *
 * Per shard, `shippedTs` is arrival-time based: every record of the shard that arrived in
 * Kinesis at or before it is shipped. A change's record arrives after the change happened, so
 * "every change with ApproximateCreationDateTime <= T is shipped" holds for
 * T = shippedTs − margin, where the propagation margin bounds how long a change takes from
 * DynamoDB to Kinesis (ApproximateCreationDateTime → ApproximateArrivalTimestamp), plus the
 * clock differences between DynamoDB, Kinesis and the advancer's host.
 */

/** A shard as ListShards shows it, with its catalog checkpoint. */
export interface ShardView {
  shardId: string;
  /** ParentShardId and AdjacentParentShardId. */
  parentShardIds: string[];
  /** The stream has closed the shard (EndingSequenceNumber is set): it takes no new records. */
  endedInStream: boolean;
  checkpoint?: Pick<ShardCheckpoint, 'shippedTs' | 'closed'>;
}

/**
 * - `closed`: every record shipped and the shard ended; it no longer bounds the checkpoint.
 * - `waiting`: a child whose parents are not closed yet. Its records all arrived after the
 *   parents' last records, and an unclosed parent's `shippedTs` stays below those (a closed
 *   shard never advances by the idle rule), so the parent bounds the checkpoint for it.
 * - `active`: bounds the checkpoint.
 */
export type ShardStatus = 'closed' | 'waiting' | 'active';

export function shardStatuses(shards: ShardView[]): Map<string, ShardStatus> {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const statuses = new Map<string, ShardStatus>();
  for (const shard of shards) {
    if (shard.checkpoint?.closed) statuses.set(shard.shardId, 'closed');
    else {
      // A parent no longer listed has expired from the stream: nothing of it is left to ship.
      const openParent = shard.parentShardIds.some((id) => {
        const parent = byId.get(id);
        return parent !== undefined && !parent.checkpoint?.closed;
      });
      statuses.set(shard.shardId, openParent ? 'waiting' : 'active');
    }
  }
  return statuses;
}

export interface ClusterCheckpointResult {
  /** Undefined while some active shard has no checkpoint yet. */
  checkpoint?: Micros;
  /** What bounds it: `shard <id>`, `hold <shard>/<seq>`, or why there is none. */
  limitedBy: string;
  activeShards: number;
}

/**
 * Cluster checkpoint = min over active shards' `shippedTs` and over holds, minus the margin.
 * Never above any active shard's or hold's value; monotone in them.
 */
export function computeClusterCheckpoint(
  shards: ShardView[],
  holds: Pick<ShardHold, 'shardId' | 'sequenceNumber' | 'ts'>[],
  marginMicros: Micros,
): ClusterCheckpointResult {
  const statuses = shardStatuses(shards);
  const active = shards.filter((s) => statuses.get(s.shardId) === 'active');
  if (active.length === 0) return { limitedBy: 'no open shard', activeShards: 0 };
  let min = Number.POSITIVE_INFINITY;
  let limitedBy = '';
  for (const shard of active) {
    if (!shard.checkpoint) {
      return { limitedBy: `shard ${shard.shardId} has no checkpoint yet`, activeShards: active.length };
    }
    if (shard.checkpoint.shippedTs < min) {
      min = shard.checkpoint.shippedTs;
      limitedBy = `shard ${shard.shardId}`;
    }
  }
  for (const hold of holds) {
    if (hold.ts < min) {
      min = hold.ts;
      limitedBy = `hold ${hold.shardId}/${hold.sequenceNumber}`;
    }
  }
  return { checkpoint: min - marginMicros, limitedBy, activeShards: active.length };
}

/** What the advancer saw reading a shard once after its `lastSequenceNumber`. */
export interface ShardObservation {
  endedInStream: boolean;
  /** ApproximateArrivalTimestamp (µs) of the first record after lastSequenceNumber, if any. */
  firstRecordArrival?: Micros;
  millisBehindLatest?: number;
  /** GetRecords returned no NextShardIterator: a closed shard read to its end. */
  shardEnd: boolean;
  /** The advancer's clock just before the GetRecords call. */
  calledAt: Micros;
}

export type ShardDecision =
  | { kind: 'advance'; shippedTs: Micros }
  | { kind: 'close' }
  | { kind: 'none'; why: string };

/**
 * The advancer's rule for one shard whose checkpoint is `current`:
 * - a record after lastSequenceNumber exists: everything before it is shipped, so the shard is
 *   shipped up to its arrival − 1 µs (ship-log has usually said as much already);
 * - a closed shard read to its end with nothing left: close it;
 * - an open shard with nothing after lastSequenceNumber and MillisBehindLatest 0: the stream
 *   shows it caught up, so every record that arrived before the call is shipped — shippedTs
 *   becomes the instant taken just before the call (minus nothing: a record arriving during
 *   the call arrives after it; Kinesis put-to-get visibility and clock skew are in the margin).
 *   Never applied to a closed shard, which would otherwise claim time its children cover.
 */
export function decideShard(current: Micros | undefined, seen: ShardObservation): ShardDecision {
  if (seen.firstRecordArrival !== undefined) {
    const shippedTs = seen.firstRecordArrival - 1;
    return current === undefined || shippedTs > current
      ? { kind: 'advance', shippedTs }
      : { kind: 'none', why: 'records waiting to be shipped' };
  }
  if (seen.endedInStream) {
    return seen.shardEnd ? { kind: 'close' } : { kind: 'none', why: 'closed shard not read to its end' };
  }
  if (seen.millisBehindLatest !== 0) return { kind: 'none', why: 'reader behind the stream tip' };
  return current === undefined || seen.calledAt > current
    ? { kind: 'advance', shippedTs: seen.calledAt }
    : { kind: 'none', why: 'already at the stream tip' };
}

/**
 * Seconds of changes a restore could not reach right now (the recovery point objective met).
 * The PITR window itself is restore-plan.ts `restorableWindow(backups, checkpoint)`.
 */
export const rpoSeconds = (checkpoint: Micros, now: Micros): number => Math.max(0, (now - checkpoint) / 1e6);

/** Is `sequenceNumber` within [start, end] (Kinesis sequence order)? */
export const sequenceWithin = (sequenceNumber: string, start: string, end: string): boolean =>
  compareSequenceNumbers(sequenceNumber, start) >= 0 && compareSequenceNumbers(sequenceNumber, end) <= 0;
