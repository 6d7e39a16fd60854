import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { enableChangeCapture } from '../../local/change-capture';
import { kinesisClient } from '../../local/clients';
import type { KinesisOnFailureRecord } from '../../local/kinesis-delivery';
import {
  type KinesisPoller,
  type KinesisPollerOptions,
  startKinesisPoller,
} from '../../local/kinesis-poller';
import { uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const kinesis = kinesisClient(cfg);

interface Call {
  functionName: string;
  event: unknown;
}

/** A fresh `rewind-log-*` stream holding `payloads` (one partition key: one shard, in order). */
async function streamWith(payloads: string[], shardCount = 1) {
  const { streamName } = await enableChangeCapture(cfg, uniqueName('poll'), [], { shardCount });
  const sequenceNumbers = await put(streamName, payloads);
  return { streamName, sequenceNumbers };
}

async function put(streamName: string, payloads: string[], partitionKey = 'one-item'): Promise<string[]> {
  if (payloads.length === 0) return [];
  const out = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: payloads.map((p) => ({ Data: Buffer.from(p), PartitionKey: partitionKey })),
    }),
  );
  return (out.Records ?? []).map((r) => r.SequenceNumber ?? '');
}

const events = (calls: Call[], name = 'ship-log') =>
  calls.filter((c) => c.functionName === name).map((c) => c.event as KinesisStreamEvent);
const seqs = (event: KinesisStreamEvent) => event.Records.map((r) => r.kinesis.sequenceNumber);
const payloadOf = (record: KinesisStreamEvent['Records'][number]) =>
  Buffer.from(record.kinesis.data, 'base64').toString('utf8');

describe('Kinesis event-source poller (Lambda ESM semantics) on kinesalite', () => {
  let poller: KinesisPoller | undefined;
  const calls: Call[] = [];

  function startPoller(
    streamName: string,
    handler: (event: KinesisStreamEvent) => unknown,
    extra: Partial<KinesisPollerOptions> = {},
  ) {
    poller = startKinesisPoller({
      cfg,
      include: (name) => name === streamName,
      invoke: async (functionName, event) => {
        calls.push({ functionName, event: structuredClone(event) });
        return functionName === 'ship-log' ? handler(event as KinesisStreamEvent) : null;
      },
      batchSize: 10,
      batchingWindowMs: 100,
      maxRetries: 2,
      retryBackoffMs: 10,
      pollMs: 50,
      discoveryMs: 200,
      log: () => undefined,
      ...extra,
    });
    return poller;
  }

  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    calls.length = 0;
  });

  it('invokes with Lambda’s Kinesis event, batches of at most batchSize, each record once, in order', async () => {
    // Prepare
    const payloads = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i, text: `ünïcødé ${i}` }));
    const { streamName, sequenceNumbers } = await streamWith(payloads);
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    // Act
    await startPoller(streamName, () => ({ batchItemFailures: [] })).flush();
    // Assess
    const delivered = events(calls);
    expect(delivered.map((e) => e.Records.length)).toEqual([10, 10, 5]);
    expect(delivered.flatMap(seqs)).toEqual(sequenceNumbers);
    const shardId = 'shardId-000000000000';
    const first = delivered[0]?.Records[0];
    expect(first).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'one-item',
        sequenceNumber: sequenceNumbers[0],
        data: Buffer.from(payloads[0] ?? '').toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${sequenceNumbers[0]}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
      awsRegion: cfg.region,
      eventSourceARN: `arn:aws:kinesis:${cfg.region}:000000000000:stream/${streamName}`,
    });
    expect(summary?.StreamARN).toBe(first?.eventSourceARN);
    const arrival = first?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(Math.abs(arrival - Date.now() / 1000)).toBeLessThan(120);
    expect(delivered.flatMap((e) => e.Records.map(payloadOf))).toEqual(payloads);
    expect(calls.filter((c) => c.functionName !== 'ship-log')).toEqual([]);
  });

  it('gathers records that arrive within the batching window into one invocation', async () => {
    // Prepare
    const { streamName } = await streamWith([]);
    startPoller(streamName, () => null, { batchSize: 100, batchingWindowMs: 1_500 });
    // Act
    for (const p of ['a', 'b', 'c']) await put(streamName, [p]);
    await poller?.flush();
    // Assess
    expect(events(calls).map((e) => e.Records.map(payloadOf))).toEqual([['a', 'b', 'c']]);
  });

  it('retries from the lowest reported batchItemFailure; records before it are not re-sent', async () => {
    // Prepare
    const { streamName, sequenceNumbers: seq } = await streamWith(
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    let failuresLeft = 2;
    // Act
    await startPoller(streamName, () =>
      failuresLeft-- > 0
        ? { batchItemFailures: [{ itemIdentifier: seq[6] }, { itemIdentifier: seq[4] }] }
        : {},
    ).flush();
    // Assess
    expect(events(calls).map(seqs)).toEqual([seq, seq.slice(4), seq.slice(4)]);
    expect(poller?.stats()).toMatchObject({ invocations: 3, delivered: 10, dropped: 0 });
  });

  it('after maxRetries of item failures sends KinesisBatchInfo of the rest to the on-failure function', async () => {
    // Prepare
    const { streamName, sequenceNumbers: seq } = await streamWith(
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    // Act
    await startPoller(streamName, () => ({ batchItemFailures: [{ itemIdentifier: seq[7] }] })).flush();
    // Assess
    expect(events(calls).map(seqs)).toEqual([seq, seq.slice(7), seq.slice(7)]);
    const [failure, ...more] = events(calls, 'record-gap') as unknown as KinesisOnFailureRecord[];
    expect(more).toEqual([]);
    expect(failure).toEqual({
      requestContext: {
        requestId: expect.any(String),
        functionArn: `arn:aws:lambda:${cfg.region}:000000000000:function:ship-log`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: seq[7],
        endSequenceNumber: seq[9],
        approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
        batchSize: 3,
        streamArn: `arn:aws:kinesis:${cfg.region}:000000000000:stream/${streamName}`,
      },
    });
    expect(poller?.stats()).toMatchObject({ delivered: 7, dropped: 3 });
  });

  it('bisects a throwing batch: only the poison record reaches the on-failure function', async () => {
    // Prepare
    const payloads = Array.from({ length: 10 }, (_, i) => (i === 3 ? 'poison' : `r${i}`));
    const { streamName, sequenceNumbers: seq } = await streamWith(payloads);
    // Act
    await startPoller(streamName, (event) => {
      if (event.Records.some((r) => payloadOf(r) === 'poison')) throw new Error('cannot decode');
      return null;
    }).flush();
    // Assess
    const clean = events(calls).filter((e) => !e.Records.some((r) => payloadOf(r) === 'poison'));
    // Every other record succeeded exactly once, in order.
    expect(clean.flatMap(seqs)).toEqual(seq.filter((_, i) => i !== 3));
    const failures = events(calls, 'record-gap') as unknown as KinesisOnFailureRecord[];
    expect(failures.map((f) => f.KinesisBatchInfo)).toMatchObject([
      { startSequenceNumber: seq[3], endSequenceNumber: seq[3], batchSize: 1 },
    ]);
    expect(failures[0]?.requestContext.approximateInvokeCount).toBe(3);
    expect(failures[0]?.responseContext.functionError).toBe('Unhandled');
    expect(poller?.stats()).toMatchObject({ delivered: 9, dropped: 1 });
  });

  it('leaves a stream alone while the function is not registered, then delivers from the start', async () => {
    // Prepare
    const { streamName, sequenceNumbers } = await streamWith(['x', 'y']);
    let registered = false;
    startPoller(streamName, () => null, { hasFunction: () => registered });
    await poller?.flush();
    await new Promise((done) => setTimeout(done, 300));
    expect(calls).toEqual([]);
    // Act
    registered = true;
    await poller?.flush();
    // Assess
    expect(events(calls).flatMap(seqs)).toEqual(sequenceNumbers);
  });

  it('stops promptly while a batch is being retried', async () => {
    // Prepare
    const { streamName } = await streamWith(['a']);
    startPoller(
      streamName,
      () => {
        throw new Error('always');
      },
      { maxRetries: 100, retryBackoffMs: 5_000, bisectOnError: false },
    );
    while (events(calls).length === 0) await new Promise((done) => setTimeout(done, 20));
    // Act
    const started = Date.now();
    await poller?.stop();
    // Assess
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events(calls, 'record-gap')).toEqual([]);
  });

  it('reads a split shard’s children only after the parent is done', async () => {
    // Prepare
    const { streamName, sequenceNumbers: before } = await streamWith(['p0', 'p1', 'p2']);
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    await kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: Shards[0]?.ShardId ?? '',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    for (let i = 0; i < 50; i++) {
      const { StreamDescriptionSummary: s } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName }),
      );
      if (s?.StreamStatus === 'ACTIVE') break;
      await new Promise((done) => setTimeout(done, 50));
    }
    const after = [...(await put(streamName, ['c0'], 'a')), ...(await put(streamName, ['c1'], 'zz'))];
    // Act
    await startPoller(streamName, () => null).flush();
    // Assess
    const order = events(calls).flatMap(seqs);
    expect(order.slice(0, 3)).toEqual(before);
    expect(new Set(order.slice(3))).toEqual(new Set(after));
    const shards = new Set(events(calls).flatMap((e) => e.Records.map((r) => r.eventID.split(':')[0])));
    expect(shards.size).toBeGreaterThanOrEqual(2);
  });
});
