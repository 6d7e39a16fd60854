import { compareSequenceNumbers } from '../core/log-format';
import {
  type ClusterCheckpoint,
  type GapRecord,
  LOG_SCHEMA_VERSION,
  type LogObjectRecord,
  type ShardCheckpoint,
  type ShardHold,
} from '../core/log-model';
import type { Micros } from '../core/time';
import type { LogCatalog, ShardAdvance, ShardClosure } from './log-catalog';

/** In-memory log catalog with the same contract as `DynamoLogCatalog`, for unit tests. */
export class MemoryLogCatalog implements LogCatalog {
  private readonly shards = new Map<string, ShardCheckpoint>();
  private readonly holds = new Map<string, ShardHold>();
  private readonly gaps = new Map<string, GapRecord>();
  private readonly objects = new Map<string, LogObjectRecord>();
  private readonly checkpoints = new Map<string, ClusterCheckpoint>();

  async getShardCheckpoint(cluster: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    return structuredClone(this.shards.get(`${cluster}/${shardId}`));
  }

  async listShardCheckpoints(cluster: string): Promise<ShardCheckpoint[]> {
    return [...this.shards.values()]
      .filter((s) => s.cluster === cluster)
      .sort((a, b) => a.shardId.localeCompare(b.shardId))
      .map((s) => structuredClone(s));
  }

  async advanceShard(advance: ShardAdvance): Promise<boolean> {
    const id = `${advance.cluster}/${advance.shardId}`;
    const current = this.shards.get(id);
    const later =
      !current ||
      current.shippedTs < advance.shippedTs ||
      (current.shippedTs === advance.shippedTs &&
        advance.lastSequenceNumber !== undefined &&
        (current.lastSequenceNumber === undefined ||
          compareSequenceNumbers(current.lastSequenceNumber, advance.lastSequenceNumber) < 0));
    if (!later) return false;
    if (
      advance.ifLastSequenceNumber !== undefined &&
      (current?.lastSequenceNumber ?? null) !== advance.ifLastSequenceNumber
    )
      return false;
    this.shards.set(id, {
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: advance.cluster,
      streamName: advance.streamName,
      shardId: advance.shardId,
      parentShardIds: current?.parentShardIds.length
        ? current.parentShardIds
        : [...(advance.parentShardIds ?? [])],
      shippedTs: advance.shippedTs,
      lastSequenceNumber: advance.lastSequenceNumber ?? current?.lastSequenceNumber,
      closed: current?.closed ?? false,
      endingSequenceNumber: current?.endingSequenceNumber,
      closedAt: current?.closedAt,
      updatedAt: advance.updatedAt,
    });
    return true;
  }

  async markShardClosed(closure: ShardClosure): Promise<void> {
    const id = `${closure.cluster}/${closure.shardId}`;
    const current = this.shards.get(id);
    if (current?.closed) return;
    this.shards.set(id, {
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: closure.cluster,
      streamName: closure.streamName,
      shardId: closure.shardId,
      parentShardIds: current?.parentShardIds.length ? current.parentShardIds : [...closure.parentShardIds],
      shippedTs: current?.shippedTs ?? 0,
      lastSequenceNumber: current?.lastSequenceNumber,
      closed: true,
      endingSequenceNumber: closure.endingSequenceNumber,
      closedAt: closure.closedAt,
      updatedAt: closure.closedAt,
    });
  }

  async putHold(hold: ShardHold): Promise<void> {
    this.holds.set(`${hold.cluster}/${hold.shardId}/${hold.sequenceNumber}`, structuredClone(hold));
  }

  async removeHold(cluster: string, shardId: string, sequenceNumber: string): Promise<void> {
    this.holds.delete(`${cluster}/${shardId}/${sequenceNumber}`);
  }

  async listHolds(cluster: string): Promise<ShardHold[]> {
    return [...this.holds.values()]
      .filter((h) => h.cluster === cluster)
      .sort(
        (a, b) =>
          a.shardId.localeCompare(b.shardId) || compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber),
      )
      .map((h) => structuredClone(h));
  }

  async recordGap(gap: GapRecord): Promise<boolean> {
    const id = `${gap.cluster}/${gap.gapId}`;
    if (this.gaps.has(id)) return false;
    this.gaps.set(id, structuredClone(gap));
    return true;
  }

  async listGaps(cluster: string): Promise<GapRecord[]> {
    return [...this.gaps.values()]
      .filter((g) => g.cluster === cluster)
      .sort((a, b) => a.fromTs - b.fromTs || a.gapId.localeCompare(b.gapId))
      .map((g) => structuredClone(g));
  }

  async getLogObject(cluster: string, key: string): Promise<LogObjectRecord | undefined> {
    return structuredClone(this.objects.get(`${cluster}/${key}`));
  }

  async putLogObject(object: LogObjectRecord): Promise<void> {
    this.objects.set(`${object.cluster}/${object.key}`, structuredClone(object));
  }

  async listLogObjects(
    cluster: string,
    table: string,
    fromTs: Micros,
    toTs: Micros,
  ): Promise<LogObjectRecord[]> {
    return [...this.objects.values()]
      .filter((o) => o.cluster === cluster && o.table === table && o.minTs <= toTs && o.maxTs >= fromTs)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((o) => structuredClone(o));
  }

  async deleteLogObjects(cluster: string, keys: string[]): Promise<void> {
    for (const key of keys) this.objects.delete(`${cluster}/${key}`);
  }

  async getClusterCheckpoint(cluster: string): Promise<ClusterCheckpoint | undefined> {
    return structuredClone(this.checkpoints.get(cluster));
  }

  async advanceClusterCheckpoint(checkpoint: ClusterCheckpoint): Promise<boolean> {
    const current = this.checkpoints.get(checkpoint.cluster);
    if (current && current.checkpoint >= checkpoint.checkpoint) return false;
    this.checkpoints.set(checkpoint.cluster, structuredClone(checkpoint));
    return true;
  }
}
