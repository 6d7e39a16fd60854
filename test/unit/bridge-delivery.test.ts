import { describe, expect, it } from 'vitest';
import {
  type DeliveryDeps,
  deliverBatch,
  type KinesisRecordIn,
  lambdaKinesisEvent,
  onFailureRecord,
  retryFrom,
} from '../../local/kinesis-delivery';
import { batchOf } from '../../local/kinesis-poller';

const records = (n: number): KinesisRecordIn[] =>
  Array.from({ length: n }, (_, i) => ({
    sequenceNumber: String(1000 + i),
    partitionKey: `k${i}`,
    data: Buffer.from(`r${i}`),
    approximateArrival: new Date(Date.UTC(2026, 10, 27, 4, 15, 0, i)),
  }));
const ctx = {
  shardId: 'shardId-000000000001',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/rewind-log-c1',
  region: 'us-east-1',
  functionName: 'ship-log',
};

/** Deliver with a scripted function; returns the sequence numbers of each invocation and the exhausted batches. */
async function run(
  batch: KinesisRecordIn[],
  respond: (seqs: string[]) => unknown,
  maxRetries = 2,
  bisect = true,
) {
  const invocations: string[][] = [];
  const exhausted: { seqs: string[]; invokes: number; functionError: boolean }[] = [];
  let succeeded = 0;
  const deps: DeliveryDeps = {
    invoke: async (rs) => {
      const seqs = rs.map((r) => r.sequenceNumber);
      invocations.push(seqs);
      return respond(seqs);
    },
    succeeded: (n) => {
      succeeded += n;
    },
    exhausted: async (rs, a) => {
      exhausted.push({
        seqs: rs.map((r) => r.sequenceNumber),
        invokes: a.approximateInvokeCount,
        functionError: a.functionError,
      });
    },
    maxRetries,
    bisectOnError: bisect,
    retryBackoffMs: 0,
    sleep: async () => undefined,
    stopped: () => false,
  };
  await deliverBatch(batch, deps);
  return { invocations, exhausted, succeeded };
}

describe('retryFrom (ReportBatchItemFailures)', () => {
  const batch = records(5);
  it.each([
    ['no response', undefined, undefined],
    ['null', null, undefined],
    ['an empty list', { batchItemFailures: [] }, undefined],
    ['a null list', { batchItemFailures: null }, undefined],
    ['a response without the field', { ok: true }, undefined],
    [
      'the lowest failed record',
      { batchItemFailures: [{ itemIdentifier: '1003' }, { itemIdentifier: '1001' }] },
      1,
    ],
    ['an unknown sequence number: whole batch', { batchItemFailures: [{ itemIdentifier: '9' }] }, 0],
    ['an empty identifier: whole batch', { batchItemFailures: [{ itemIdentifier: '' }] }, 0],
    ['a null identifier: whole batch', { batchItemFailures: [{ itemIdentifier: null }] }, 0],
    ['a list that is not an array: whole batch', { batchItemFailures: 'x' }, 0],
  ])('%s', (_, response, expected) => {
    // Act / Assess
    expect(retryFrom(response, batch)).toBe(expected);
  });
});

describe('deliverBatch', () => {
  it('resumes at the reported item and counts the records before it as done', async () => {
    // Prepare
    let calls = 0;
    // Act
    const out = await run(records(5), () =>
      calls++ === 0 ? { batchItemFailures: [{ itemIdentifier: '1002' }] } : {},
    );
    // Assess
    expect(out.invocations).toEqual([
      ['1000', '1001', '1002', '1003', '1004'],
      ['1002', '1003', '1004'],
    ]);
    expect(out).toMatchObject({ exhausted: [], succeeded: 5 });
  });

  it('hands the unreported rest to the on-failure destination after maxRetries', async () => {
    // Act
    const out = await run(records(4), () => ({ batchItemFailures: [{ itemIdentifier: '1001' }] }), 2);
    // Assess
    expect(out.invocations).toHaveLength(3);
    expect(out.exhausted).toEqual([{ seqs: ['1001', '1002', '1003'], invokes: 3, functionError: false }]);
    expect(out.succeeded).toBe(1);
  });

  it('bisects on a thrown error, without using retries, until the poison record stands alone', async () => {
    // Act
    const out = await run(records(8), (seqs) => {
      if (seqs.includes('1005')) throw new Error('poison');
      return null;
    });
    // Assess
    expect(out.exhausted).toEqual([{ seqs: ['1005'], invokes: 3, functionError: true }]);
    expect(out.succeeded).toBe(7);
    expect(out.invocations.filter((s) => !s.includes('1005')).flat()).toEqual([
      '1000',
      '1001',
      '1002',
      '1003',
      '1004',
      '1006',
      '1007',
    ]);
  });

  it('without bisect retries the whole batch, then gives it all up', async () => {
    // Act
    const out = await run(
      records(3),
      () => {
        throw new Error('down');
      },
      1,
      false,
    );
    // Assess
    expect(out.invocations).toEqual([
      ['1000', '1001', '1002'],
      ['1000', '1001', '1002'],
    ]);
    expect(out.exhausted).toEqual([{ seqs: ['1000', '1001', '1002'], invokes: 2, functionError: true }]);
  });
});

describe('event shapes', () => {
  it('builds Lambda’s Kinesis event', () => {
    // Act
    const event = lambdaKinesisEvent(records(1), ctx);
    // Assess
    expect(event).toEqual({
      Records: [
        {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: 'k0',
            sequenceNumber: '1000',
            data: Buffer.from('r0').toString('base64'),
            approximateArrivalTimestamp: Date.UTC(2026, 10, 27, 4, 15) / 1000,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: 'shardId-000000000001:1000',
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/rewind-ship-log',
          awsRegion: 'us-east-1',
          eventSourceARN: ctx.streamArn,
        },
      ],
    });
  });

  it('builds the on-failure destination record with KinesisBatchInfo', () => {
    // Act
    const record = onFailureRecord(records(3), {
      ...ctx,
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ship-log',
      requestId: 'req-1',
      approximateInvokeCount: 4,
      functionError: true,
      now: new Date('2026-11-27T04:16:00.000Z'),
    });
    // Assess
    expect(record).toEqual({
      requestContext: {
        requestId: 'req-1',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ship-log',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 4,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-27T04:16:00.000Z',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000001',
        startSequenceNumber: '1000',
        endSequenceNumber: '1002',
        approximateArrivalOfFirstRecord: '2026-11-27T04:15:00.000Z',
        approximateArrivalOfLastRecord: '2026-11-27T04:15:00.002Z',
        batchSize: 3,
        streamArn: ctx.streamArn,
      },
    });
  });
});

describe('batchOf', () => {
  it('takes up to batchSize records, and fewer when the payload would pass Lambda’s 6 MB', () => {
    // Prepare
    const small = Array.from({ length: 7 }, () => ({ data: new Uint8Array(10) }));
    const big = Array.from({ length: 7 }, () => ({ data: new Uint8Array(1_000_000) }));
    // Act / Assess
    expect(batchOf(small, 5)).toEqual({ count: 5, full: true });
    expect(batchOf(small, 10)).toEqual({ count: 7, full: false });
    expect(batchOf(big, 100)).toEqual({ count: 4, full: true });
    expect(batchOf([{ data: new Uint8Array(8_000_000) }], 100)).toEqual({ count: 1, full: false });
  });
});
