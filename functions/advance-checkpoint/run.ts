import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import type { Catalog } from '../adapters/catalog';
import type { LogCatalog } from '../adapters/log-catalog';
import { backupAgeSeconds } from '../core/backup-age';
import { isProtected } from '../core/catalog-model';
import {
  type ClusterCheckpointResult,
  computeClusterCheckpoint,
  decideShard,
  rpoSeconds,
  type ShardStatus,
  type ShardView,
  shardStatuses,
} from '../core/checkpoint';
import { ClusterNotFoundError } from '../core/errors';
import { clusterField, parseEvent } from '../core/events';
import { logStreamName } from '../core/log-format';
import { LOG_SCHEMA_VERSION, type ShardCheckpoint } from '../core/log-model';
import { type Micros, millisToMicros } from '../core/time';

/** An EventBridge scheduled event (ignored), or `{"cluster": "shop"}` to advance one cluster. */
export const advanceCheckpointInput = z.looseObject({ cluster: clusterField.optional() });

export interface AdvanceCheckpointDeps {
  catalog: Pick<Catalog, 'listClusters' | 'getCluster' | 'listBackups'>;
  logCatalog: LogCatalog;
  kinesis: KinesisClient;
  now: () => Micros;
  config: { marginMicros: Micros; shardConcurrency: number };
}

export interface ShardReport {
  shardId: string;
  status: ShardStatus;
  /** What the advancer did: `advanced`, `closed`, `none: <why>`, `error: <message>`, `waiting`. */
  action: string;
  shippedTs?: Micros;
}

export interface ClusterReport {
  cluster: string;
  streamName: string;
  /** `missing`: the cluster has no log stream (log backup not enabled). */
  stream: 'ok' | 'missing';
  shards: ShardReport[];
  computed?: ClusterCheckpointResult;
  /** Whether the stored cluster checkpoint moved. */
  advanced: boolean;
  /** The stored cluster checkpoint after this run. */
  checkpoint?: Micros;
  rpoSeconds?: number;
  /** Seconds since the newest COMPLETED backup (or the cluster's registration). */
  backupAgeSeconds?: number;
}

/**
 * advance-checkpoint (docs/design.md §3.4), every minute: for each cluster's stream, read each
 * active shard once after its checkpoint and move it forward by `decideShard` (idle shards
 * advance when the stream shows them caught up; closed shards read to their end are marked
 * closed, which lets their children start), then store the cluster checkpoint = least active
 * shard or hold − propagation margin. The stored value only ever moves forward.
 */
export async function run(
  event: unknown,
  deps: AdvanceCheckpointDeps,
): Promise<{ clusters: ClusterReport[] }> {
  const input = parseEvent(advanceCheckpointInput, event ?? {}, 'advance-checkpoint event');
  const records = input.cluster
    ? [await knownCluster(deps.catalog, input.cluster)]
    : (await deps.catalog.listClusters()).filter(isProtected);
  const clusters: ClusterReport[] = [];
  for (const record of records) {
    const report = await advanceCluster(record.clusterName, deps);
    // Reported with the RPO so one per-minute run feeds both alarms (cdk/constructs/monitoring.ts).
    if ('createdAt' in record) {
      const registeredAt = Date.parse(record.createdAt) * 1000;
      const backups = await deps.catalog.listBackups(record.clusterName);
      if (Number.isFinite(registeredAt))
        report.backupAgeSeconds = backupAgeSeconds(backups, registeredAt, deps.now());
    }
    clusters.push(report);
  }
  return { clusters };
}

async function knownCluster(catalog: Pick<Catalog, 'getCluster'>, name: string) {
  const cluster = await catalog.getCluster(name);
  if (!cluster) throw new ClusterNotFoundError(name);
  return cluster;
}

async function advanceCluster(cluster: string, deps: AdvanceCheckpointDeps): Promise<ClusterReport> {
  const streamName = logStreamName(cluster);
  const listed = await listShards(deps.kinesis, streamName);
  if (!listed) return { cluster, streamName, stream: 'missing', shards: [], advanced: false };

  const checkpoints = new Map<string, ShardCheckpoint>(
    (await deps.logCatalog.listShardCheckpoints(cluster)).map((c) => [c.shardId, c]),
  );
  const views = (): ShardView[] =>
    listed.map((s) => ({
      shardId: s.ShardId ?? '',
      parentShardIds: parentsOf(s),
      endedInStream: Boolean(s.SequenceNumberRange?.EndingSequenceNumber),
      checkpoint: checkpoints.get(s.ShardId ?? ''),
    }));

  // Waves: closing a parent makes its children active within the same run.
  const actions = new Map<string, string>();
  for (;;) {
    const statuses = shardStatuses(views());
    const wave = listed.filter(
      (s) => statuses.get(s.ShardId ?? '') === 'active' && !actions.has(s.ShardId ?? ''),
    );
    if (wave.length === 0) break;
    await forEachLimit(wave, deps.config.shardConcurrency, async (shard) => {
      const shardId = shard.ShardId ?? '';
      actions.set(shardId, 'pending');
      try {
        actions.set(shardId, await advanceShard(cluster, streamName, shard, checkpoints.get(shardId), deps));
      } catch (error) {
        actions.set(shardId, `error: ${(error as Error).message}`);
      }
      const fresh = await deps.logCatalog.getShardCheckpoint(cluster, shardId);
      if (fresh) checkpoints.set(shardId, fresh);
    });
  }

  const holds = await deps.logCatalog.listHolds(cluster);
  const finalViews = views();
  const statuses = shardStatuses(finalViews);
  const computed = computeClusterCheckpoint(finalViews, holds, deps.config.marginMicros);
  const now = deps.now();
  const advanced =
    computed.checkpoint !== undefined &&
    (await deps.logCatalog.advanceClusterCheckpoint({
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster,
      checkpoint: computed.checkpoint,
      computedAt: now,
      marginMicros: deps.config.marginMicros,
      limitedBy: computed.limitedBy,
      activeShards: computed.activeShards,
    }));
  const stored = await deps.logCatalog.getClusterCheckpoint(cluster);
  return {
    cluster,
    streamName,
    stream: 'ok',
    shards: finalViews.map((v) => ({
      shardId: v.shardId,
      status: statuses.get(v.shardId) ?? 'active',
      action: actions.get(v.shardId) ?? (statuses.get(v.shardId) === 'closed' ? 'closed earlier' : 'waiting'),
      shippedTs: v.checkpoint?.shippedTs,
    })),
    computed,
    advanced,
    checkpoint: stored?.checkpoint,
    rpoSeconds: stored ? rpoSeconds(stored.checkpoint, now) : undefined,
  };
}

/** Read the shard after its checkpoint and apply `decideShard`. */
async function advanceShard(
  cluster: string,
  streamName: string,
  shard: Shard,
  checkpoint: ShardCheckpoint | undefined,
  deps: AdvanceCheckpointDeps,
): Promise<string> {
  const shardId = shard.ShardId ?? '';
  const after = checkpoint?.lastSequenceNumber;
  const { ShardIterator } = await deps.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
      StartingSequenceNumber: after,
    }),
  );
  const ending = shard.SequenceNumberRange?.EndingSequenceNumber;
  // One GetRecords normally. An empty page that is not yet at the tip (or, for a closed shard,
  // at its end) is followed a few times: Kinesis may need several calls to cross empty stretches.
  let iterator = ShardIterator;
  let calledAt = deps.now();
  let page = await deps.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
  for (let follow = 0; follow < MAX_EMPTY_PAGES; follow++) {
    const empty = (page.Records ?? []).length === 0;
    const more = ending ? Boolean(page.NextShardIterator) : page.MillisBehindLatest !== 0;
    if (!empty || !more || !page.NextShardIterator) break;
    iterator = page.NextShardIterator;
    calledAt = deps.now();
    page = await deps.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
  }
  const arrival = page.Records?.[0]?.ApproximateArrivalTimestamp;
  const decision = decideShard(checkpoint?.shippedTs, {
    endedInStream: Boolean(ending),
    firstRecordArrival: arrival ? millisToMicros(arrival.getTime()) : undefined,
    millisBehindLatest: page.MillisBehindLatest,
    shardEnd: !page.NextShardIterator,
    calledAt,
  });
  if (decision.kind === 'none') return `none: ${decision.why}`;
  if (decision.kind === 'close') {
    await deps.logCatalog.markShardClosed({
      cluster,
      streamName,
      shardId,
      parentShardIds: parentsOf(shard),
      endingSequenceNumber: ending ?? '0',
      closedAt: deps.now(),
    });
    return 'closed';
  }
  const moved = await deps.logCatalog.advanceShard({
    cluster,
    streamName,
    shardId,
    shippedTs: decision.shippedTs,
    parentShardIds: parentsOf(shard),
    updatedAt: deps.now(),
    // Only if ship-log has not moved the shard since we read it.
    ifLastSequenceNumber: after ?? null,
  });
  return moved ? 'advanced' : 'none: moved concurrently';
}

const MAX_EMPTY_PAGES = 4;

const parentsOf = (shard: Shard): string[] =>
  [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => Boolean(id));

/** Every shard of the stream, or undefined when the stream does not exist. */
async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[] | undefined> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await kinesis.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
  return shards;
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
