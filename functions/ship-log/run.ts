import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { LogCatalog } from '../adapters/log-catalog';
import type { ObjectStore } from '../adapters/object-store';
import { InvalidInputError } from '../core/errors';
import { parseEvent } from '../core/events';
import {
  arrivalMicros,
  decodeChangeRecord,
  groupChanges,
  type LogGroup,
  logObjectText,
  type ShardProgress,
  shardOfEventId,
  shardProgress,
} from '../core/log-batch';
import { type ChangeRecord, clusterOfStream, compareSequenceNumbers } from '../core/log-format';
import { LOG_SCHEMA_VERSION } from '../core/log-model';
import type { Micros } from '../core/time';
import { type BatchResponse, type KinesisEventRecord, kinesisEvent } from './schema';

const gzipAsync = promisify(gzip);

export interface ShipLogDeps {
  store: ObjectStore;
  logCatalog: LogCatalog;
  now: () => Micros;
}

export interface ShardOutcome {
  shardId: string;
  shippedTs: Micros;
  advanced: boolean;
  lastSequenceNumber?: string;
  firstFailure?: string;
}

export interface ShipLogResult extends BatchResponse {
  cluster: string;
  records: number;
  /** Records decoded and written to log objects. */
  shipped: number;
  /** Records that are not DynamoDB change records (reported as batch item failures). */
  decodeFailures: number;
  objects: { key: string; records: number; bytes: number }[];
  shards: ShardOutcome[];
  /** now − the least shippedTs of the batch's shards, µs. */
  checkpointLagMicros: number;
  /** Greatest ApproximateArrivalTimestamp − ApproximateCreationDateTime seen, µs. */
  maxPropagationMicros: number;
}

/**
 * ship-log (docs/design.md §3.1, §3.4, §3.5): one Kinesis batch → gzip NDJSON log objects →
 * log-object index → shard checkpoint.
 *
 * Records are decoded with Powertools' BatchProcessor: a record that is not a DynamoDB change
 * becomes a batch item failure (itemIdentifier = sequence number) — never dropped, never a
 * crashed batch. Lambda then retries the shard from the lowest failed record and, once its
 * retries are exhausted, sends the batch to the on-failure destination (→ record-gap).
 *
 * Every good record of the batch is written, also those after a failed one: keys are
 * deterministic (shard + first sequence number per table and hour), so a retried batch
 * rewrites the same objects, and what a retry ships twice is a duplicate replay drops.
 * The shard checkpoint moves forward only (conditional write) and never past the first failed
 * record (see `shardProgress`). A failed record leaves a hold that keeps the cluster
 * checkpoint below it until a retry ships it or its gap is recorded. A batch that throws
 * (storage error) is retried whole by Lambda; it first tries to hold its first record.
 *
 * Assumes the event source mapping has ParallelizationFactor 1 (one batch per shard at a time,
 * in order): the arrival-time checkpoint relies on it.
 */
export async function run(event: unknown, deps: ShipLogDeps): Promise<ShipLogResult> {
  const input = parseEvent(kinesisEvent, event, 'Kinesis event');
  const first = input.Records[0];
  if (!first) return emptyResult('');
  const cluster = clusterOfStream(first.eventSourceARN);
  if (!cluster) {
    throw new InvalidInputError(
      'Records.0.eventSourceARN',
      `the ARN of a rewind-log-<cluster> stream, got "${first.eventSourceARN}"`,
    );
  }
  const streamName = first.eventSourceARN.split('/').pop() ?? '';

  // Decode every record; a bad one becomes a batch item failure.
  const decoded = new Map<string, ChangeRecord>();
  const response = (await processPartialResponse(
    input,
    async (record: KinesisEventRecord) => {
      const { sequenceNumber, data } = record.kinesis;
      decoded.set(sequenceNumber, decodeChangeRecord(data, shardOfEventId(record.eventID), sequenceNumber));
    },
    new BatchProcessor(EventType.KinesisDataStreams),
    { throwOnFullBatchFailure: false },
  )) as BatchResponse;
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));

  const byShard = new Map<string, { sequenceNumber: string; arrival: Micros }[]>();
  let maxPropagationMicros = Number.NEGATIVE_INFINITY;
  for (const record of input.Records) {
    const shardId = shardOfEventId(record.eventID);
    const arrival = arrivalMicros(record.kinesis.approximateArrivalTimestamp);
    const list = byShard.get(shardId) ?? [];
    list.push({ sequenceNumber: record.kinesis.sequenceNumber, arrival });
    byShard.set(shardId, list);
    const change = decoded.get(record.kinesis.sequenceNumber);
    if (change) maxPropagationMicros = Math.max(maxPropagationMicros, arrival - change.ts);
  }
  const progress = new Map<string, ShardProgress>();
  for (const [shardId, records] of byShard) {
    const p = shardProgress(records, failed);
    if (p) progress.set(shardId, p);
  }

  let objects: ShipLogResult['objects'];
  const shards: ShardOutcome[] = [];
  try {
    objects = await Promise.all(
      groupChanges(cluster, decoded.values()).map((g) => writeGroup(cluster, g, deps)),
    );
    for (const [shardId, p] of progress) {
      // The hold on a newly failed record goes in before the hold on this batch's first record
      // (if a failed try left one) comes out.
      if (p.firstFailure) {
        await hold(deps, cluster, shardId, p.firstFailure, 'record failed to decode (batch item failure)');
      }
      // allSettled: both finish before a failure reaches the catch below (which sets holds).
      const [advance, release] = await Promise.allSettled([
        deps.logCatalog.advanceShard({
          cluster,
          streamName,
          shardId,
          shippedTs: p.shippedTs,
          lastSequenceNumber: p.lastSequenceNumber,
          updatedAt: deps.now(),
        }),
        p.firstShipped ? deps.logCatalog.removeHold(cluster, shardId, p.firstSequenceNumber) : undefined,
      ]);
      if (advance.status === 'rejected') throw advance.reason;
      if (release.status === 'rejected') throw release.reason;
      const advanced = advance.value;
      shards.push({
        shardId,
        shippedTs: p.shippedTs,
        advanced,
        lastSequenceNumber: p.lastSequenceNumber,
        firstFailure: p.firstFailure?.sequenceNumber,
      });
    }
  } catch (error) {
    await holdFirstRecords(deps, cluster, byShard, error);
    throw error;
  }

  const now = deps.now();
  return {
    batchItemFailures: response.batchItemFailures,
    cluster,
    records: input.Records.length,
    shipped: decoded.size,
    decodeFailures: failed.size,
    objects,
    shards,
    checkpointLagMicros: now - Math.min(...shards.map((s) => s.shippedTs)),
    maxPropagationMicros: Number.isFinite(maxPropagationMicros) ? maxPropagationMicros : 0,
  };
}

async function writeGroup(cluster: string, group: LogGroup, deps: ShipLogDeps) {
  // A retry of a batch cut short (timeout, bisect) can start at the same record and end
  // earlier: its group is then part of the object already written, which is kept — objects
  // for a key only ever grow.
  const existing = await deps.logCatalog.getLogObject(cluster, group.key);
  if (existing && compareSequenceNumbers(existing.lastSequenceNumber, group.lastSequenceNumber) >= 0) {
    return { key: group.key, records: existing.records, bytes: existing.bytes };
  }
  const text = logObjectText(group.records);
  // gzip level 1 (as for snapshot chunks): shipping must keep up with the stream. Node's gzip
  // header carries no timestamp, so the same records always give the same bytes.
  const body = await gzipAsync(text, { level: 1 });
  const sha256 = createHash('sha256').update(body).digest('hex');
  await deps.store.put(group.key, body, 'application/gzip');
  await deps.logCatalog.putLogObject({
    schemaVersion: LOG_SCHEMA_VERSION,
    cluster,
    key: group.key,
    table: group.table,
    shardId: group.shardId,
    firstSequenceNumber: group.firstSequenceNumber,
    lastSequenceNumber: group.lastSequenceNumber,
    minTs: group.minTs,
    maxTs: group.maxTs,
    records: group.records.length,
    rawBytes: Buffer.byteLength(text),
    bytes: body.length,
    sha256,
    writtenAt: deps.now(),
  });
  return { key: group.key, records: group.records.length, bytes: body.length };
}

function hold(
  deps: ShipLogDeps,
  cluster: string,
  shardId: string,
  record: { sequenceNumber: string; ts: Micros },
  reason: string,
) {
  return deps.logCatalog.putHold({
    schemaVersion: LOG_SCHEMA_VERSION,
    cluster,
    shardId,
    sequenceNumber: record.sequenceNumber,
    ts: record.ts,
    reason,
    heldAt: deps.now(),
  });
}

/** Best effort: the batch is failing whole and Lambda will retry it from its first record. */
async function holdFirstRecords(
  deps: ShipLogDeps,
  cluster: string,
  byShard: Map<string, { sequenceNumber: string; arrival: Micros }[]>,
  error: unknown,
) {
  const reason = `batch failed: ${String((error as Error)?.message ?? error).slice(0, 200)}`;
  for (const [shardId, records] of byShard) {
    const p = shardProgress(records, new Set(records.map((r) => r.sequenceNumber)));
    if (!p?.firstFailure) continue;
    await hold(deps, cluster, shardId, p.firstFailure, reason).catch(() => undefined);
  }
}

function emptyResult(cluster: string): ShipLogResult {
  return {
    batchItemFailures: [],
    cluster,
    records: 0,
    shipped: 0,
    decodeFailures: 0,
    objects: [],
    shards: [],
    checkpointLagMicros: 0,
    maxPropagationMicros: 0,
  };
}
