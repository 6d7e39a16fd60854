import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Catalog } from '../adapters/catalog';
import type { LogCatalog } from '../adapters/log-catalog';
import { sequenceWithin } from '../core/checkpoint';
import { ClusterNotFoundError, InvalidInputError } from '../core/errors';
import { parseEvent } from '../core/events';
import { clusterOfStream } from '../core/log-format';
import { type GapRecord, gapId, LOG_SCHEMA_VERSION } from '../core/log-model';
import type { Micros } from '../core/time';
import type { BatchResponse } from '../ship-log/schema';
import { type KinesisFailureRecord, kinesisFailureRecord, sqsEvent } from './schema';

export interface RecordGapDeps {
  /** Gaps are recorded for registered clusters only. */
  catalog: Pick<Catalog, 'getCluster'>;
  logCatalog: LogCatalog;
  now: () => Micros;
  config: {
    /** Bound on ApproximateArrivalTimestamp − ApproximateCreationDateTime (core/checkpoint.ts). */
    marginMicros: Micros;
  };
}

export interface RecordGapResult extends BatchResponse {
  gaps: { gap: GapRecord; recorded: boolean; holdsReleased: number; shardAdvanced: boolean }[];
}

/**
 * The change-time range a discarded batch may have held. Its records arrived within
 * [first, last] arrival (millisecond precision, so up to last + 999 µs); a change happens
 * before its record arrives and, by the propagation margin, at most `margin` earlier.
 * The records themselves are unknown (they may not even decode), so the gap has no table:
 * it stands for every table of the cluster.
 */
export function gapFromFailure(record: KinesisFailureRecord, marginMicros: Micros, now: Micros): GapRecord {
  const info = record.KinesisBatchInfo;
  const cluster = clusterOfStream(info.streamArn);
  if (!cluster) {
    throw new InvalidInputError(
      'KinesisBatchInfo.streamArn',
      `the ARN of a rewind-log-<cluster> stream, got "${info.streamArn}"`,
    );
  }
  const functionError = record.responseContext?.functionError;
  return {
    schemaVersion: LOG_SCHEMA_VERSION,
    gapId: gapId(info.shardId, info.startSequenceNumber, info.endSequenceNumber),
    cluster,
    shardId: info.shardId,
    startSequenceNumber: info.startSequenceNumber,
    endSequenceNumber: info.endSequenceNumber,
    fromTs: Date.parse(info.approximateArrivalOfFirstRecord) * 1000 - marginMicros,
    toTs: Date.parse(info.approximateArrivalOfLastRecord) * 1000 + 999,
    records: info.batchSize,
    reason: `${record.requestContext.condition}${functionError ? ` (function error: ${functionError})` : ''}`,
    recordedAt: now,
  };
}

/**
 * record-gap (docs/design.md §3.5): Lambda discarded a Kinesis batch of ship-log; record a gap so
 * restore refuses every instant whose replay would cross it. Then the batch is accounted for:
 * the shard checkpoint moves past its last record (else an idle shard would stay behind the
 * dropped batch for good: the advancer reads after lastSequenceNumber), and the holds on its
 * records are released — in that order, so the checkpoint never passes an unrecorded drop.
 *
 * Input: the on-failure record itself (local poller, console), or an SQS event whose messages
 * carry it (the AWS on-failure destination is a queue; ReportBatchItemFailures on that
 * mapping). Recording the same batch twice is one gap.
 */
export async function run(event: unknown, deps: RecordGapDeps): Promise<RecordGapResult> {
  const gaps: RecordGapResult['gaps'] = [];
  const recordOne = async (payload: unknown) => {
    const record = parseEvent(kinesisFailureRecord, payload, 'on-failure record');
    gaps.push(await recordGap(record, deps));
  };
  if (sqsEvent.safeParse(event).success) {
    const response = (await processPartialResponse(
      event as { Records: { body: string }[] },
      (message: { body: string }) => recordOne(JSON.parse(message.body)),
      new BatchProcessor(EventType.SQS),
      { processInParallel: false, throwOnFullBatchFailure: false },
    )) as BatchResponse;
    return { gaps, batchItemFailures: response.batchItemFailures };
  }
  await recordOne(event);
  return { gaps, batchItemFailures: [] };
}

async function recordGap(record: KinesisFailureRecord, deps: RecordGapDeps) {
  const gap = gapFromFailure(record, deps.config.marginMicros, deps.now());
  // A stream named like a cluster's that no cluster owns: refuse (the message stays on the
  // queue, then its DLQ) rather than write a gap row for nothing.
  if (!(await deps.catalog.getCluster(gap.cluster))) throw new ClusterNotFoundError(gap.cluster);
  const recorded = await deps.logCatalog.recordGap(gap);
  const info = record.KinesisBatchInfo;
  // Every record up to endSequenceNumber is now shipped or in the gap. Its arrival has
  // millisecond precision: later records may share that millisecond, hence − 1 µs.
  const shardAdvanced = await deps.logCatalog.advanceShard({
    cluster: gap.cluster,
    streamName: info.streamArn.split('/').pop() ?? '',
    shardId: gap.shardId,
    shippedTs: Date.parse(info.approximateArrivalOfLastRecord) * 1000 - 1,
    lastSequenceNumber: gap.endSequenceNumber,
    updatedAt: deps.now(),
  });
  const holds = (await deps.logCatalog.listHolds(gap.cluster)).filter(
    (h) =>
      h.shardId === gap.shardId &&
      sequenceWithin(h.sequenceNumber, gap.startSequenceNumber, gap.endSequenceNumber),
  );
  for (const h of holds) await deps.logCatalog.removeHold(gap.cluster, h.shardId, h.sequenceNumber);
  return { gap, recorded, holdsReleased: holds.length, shardAdvanced };
}
