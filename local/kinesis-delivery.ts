import type { KinesisStreamEvent } from 'aws-lambda';
import { RewindError } from '../functions/core/errors';

/**
 * How Lambda's Kinesis event-source mapping hands one batch to a function, as pure code the
 * local poller (local/kinesis-poller.ts) drives: the event shape, partial batch responses
 * (ReportBatchItemFailures), retries, bisect on function error, and the on-failure
 * destination record. No I/O here: invoke, sleep and the on-failure hand-off are injected.
 */

export interface KinesisRecordIn {
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  approximateArrival: Date;
}

export interface EventContext {
  shardId: string;
  streamArn: string;
  region: string;
  functionName: string;
}

/** The event Lambda passes to a function subscribed to a Kinesis stream. */
export function lambdaKinesisEvent(records: KinesisRecordIn[], ctx: EventContext): KinesisStreamEvent {
  const [, account = '000000000000'] = /^arn:[^:]+:kinesis:[^:]*:(\d*):/.exec(ctx.streamArn) ?? [];
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('base64'),
        approximateArrivalTimestamp: r.approximateArrival.getTime() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${ctx.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${account}:role/rewind-${ctx.functionName}`,
      awsRegion: ctx.region,
      eventSourceARN: ctx.streamArn,
    })),
  };
}

/**
 * Where the next attempt starts, from the function's response: `undefined` = the whole batch
 * succeeded (no response, no or empty `batchItemFailures`); otherwise the index of the failed
 * record with the lowest sequence number. As with Lambda, a malformed list (not an array, an
 * empty or null `itemIdentifier`, a sequence number not in the batch) fails the whole batch: 0.
 */
export function retryFrom(response: unknown, batch: KinesisRecordIn[]): number | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 0;
  if (failures.length === 0) return undefined;
  let first = batch.length;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = typeof id === 'string' && id ? batch.findIndex((r) => r.sequenceNumber === id) : -1;
    if (index < 0) return 0;
    first = Math.min(first, index);
  }
  return first;
}

/** What Lambda sends to a Kinesis event source's on-failure destination. */
export interface KinesisOnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted';
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface ExhaustedAttempts {
  approximateInvokeCount: number;
  /** The last attempt threw (Lambda's "Unhandled"), rather than reporting item failures. */
  functionError: boolean;
}

export function onFailureRecord(
  records: KinesisRecordIn[],
  ctx: EventContext & ExhaustedAttempts & { functionArn: string; requestId: string; now?: Date },
): KinesisOnFailureRecord {
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last) throw new RewindError('an on-failure record needs at least one record');
  return {
    requestContext: {
      requestId: ctx.requestId,
      functionArn: ctx.functionArn,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: ctx.approximateInvokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(ctx.functionError ? { functionError: 'Unhandled' } : {}),
    },
    version: '1.0',
    timestamp: (ctx.now ?? new Date()).toISOString(),
    KinesisBatchInfo: {
      shardId: ctx.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: first.approximateArrival.toISOString(),
      approximateArrivalOfLastRecord: last.approximateArrival.toISOString(),
      batchSize: records.length,
      streamArn: ctx.streamArn,
    },
  };
}

export interface DeliveryDeps {
  /** Invoke the function with these records; resolves to its response, rejects on function error. */
  invoke(records: KinesisRecordIn[]): Promise<unknown>;
  /** `count` records (a prefix of the current batch) are done. */
  succeeded(count: number): void;
  /** Retries are spent: hand `records` to the on-failure destination. */
  exhausted(records: KinesisRecordIn[], attempts: ExhaustedAttempts): Promise<void>;
  /** An invocation threw (for logs). */
  failed?(error: unknown): void;
  maxRetries: number;
  bisectOnError: boolean;
  retryBackoffMs: number;
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
}

export class DeliveryStoppedError extends RewindError {
  constructor(readonly pending: number) {
    super(`poller stopped with ${pending} record(s) of a batch not delivered`);
  }
}

/**
 * Deliver one batch the way Lambda's Kinesis event-source mapping does. A partial batch
 * response makes the next attempt start at the lowest failed record (earlier ones are done);
 * a thrown error retries the whole batch, or, with bisect on, splits it in two halves delivered
 * one after the other (splitting does not use up a retry). After `maxRetries` retries the
 * remaining records go to `exhausted`, and delivery moves on.
 */
export async function deliverBatch(records: KinesisRecordIn[], deps: DeliveryDeps): Promise<void> {
  let pending = records;
  let retries = 0;
  let invokes = 0;
  while (pending.length > 0) {
    if (deps.stopped()) throw new DeliveryStoppedError(pending.length);
    invokes++;
    let functionError = false;
    try {
      const from = retryFrom(await deps.invoke(pending), pending);
      if (from === undefined) {
        deps.succeeded(pending.length);
        return;
      }
      if (from > 0) deps.succeeded(from);
      pending = pending.slice(from);
    } catch (err) {
      deps.failed?.(err);
      functionError = true;
      if (deps.bisectOnError && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        await deliverBatch(pending.slice(0, half), deps);
        await deliverBatch(pending.slice(half), deps);
        return;
      }
    }
    retries++;
    if (retries > deps.maxRetries) {
      await deps.exhausted(pending, { approximateInvokeCount: invokes, functionError });
      return;
    }
    await deps.sleep(deps.retryBackoffMs * 2 ** (retries - 1));
  }
}
