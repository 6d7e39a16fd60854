import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchTableWriter, WriteThrottledError } from '../../functions/adapters/table-writer';

const ddb = mockClient(DynamoDBClient);
afterEach(() => ddb.reset());

const item = (i: number) => ({ id: { S: `k${i}` }, n: { N: String(i) } });
const requestsOf = (call: { args: unknown[] }) =>
  ((call.args[0] as BatchWriteItemCommand).input.RequestItems?.t ?? []) as WriteRequest[];

describe('BatchTableWriter', () => {
  it('sends batches of 25 and resends UnprocessedItems with capped exponential backoff and full jitter', async () => {
    // Prepare: the first call leaves 5 items unprocessed, the retry 2, the next none.
    let calls = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => {
      calls++;
      const sent = input.RequestItems.t ?? [];
      const left = calls === 1 ? sent.slice(0, 5) : calls === 2 ? sent.slice(0, 2) : [];
      return { UnprocessedItems: left.length ? { t: left } : {} };
    });
    const delays: number[] = [];
    const writer = new BatchTableWriter(new DynamoDBClient({ region: 'us-east-1' }), 't', {
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 150,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    // Act
    for (let i = 0; i < 30; i++) await writer.put(item(i));
    const stats = await writer.flush();
    // Assess: 25 + 5 (first batch, then its two retries) and 5 (second batch).
    const sizes = ddb.commandCalls(BatchWriteItemCommand).map((c) => requestsOf(c).length);
    expect(sizes).toEqual([25, 5, 2, 5]);
    expect(delays).toEqual([50, 75]); // 0.5 × min(150, 100 × 2^0), 0.5 × min(150, 100 × 2^1)
    expect(stats).toMatchObject({ puts: 30, requests: 4, retries: 2 });
  });

  it('never has more than `concurrency` requests in flight', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    ddb.on(BatchWriteItemCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    });
    const writer = new BatchTableWriter(new DynamoDBClient({ region: 'us-east-1' }), 't', { concurrency: 3 });
    // Act
    for (let i = 0; i < 25 * 12; i++) await writer.put(item(i));
    await writer.flush();
    // Assess
    expect(peak).toBe(3);
    expect(ddb.commandCalls(BatchWriteItemCommand)).toHaveLength(12);
  });

  it('mixes puts and deletes, and gives up with WriteThrottledError when a batch never progresses', async () => {
    // Prepare
    ddb.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    const writer = new BatchTableWriter(new DynamoDBClient({ region: 'us-east-1' }), 't', {
      maxAttempts: 4,
      sleep: async () => {},
    });
    // Act
    await writer.put(item(1));
    await writer.delete({ id: { S: 'k2' } });
    const flushed = writer.flush();
    // Assess
    await expect(flushed).rejects.toBeInstanceOf(WriteThrottledError);
    await expect(flushed).rejects.toThrow(/2 writes to t still unprocessed after 4 attempts/);
    const [first] = ddb.commandCalls(BatchWriteItemCommand);
    expect(first && requestsOf(first)).toEqual([
      { PutRequest: { Item: item(1) } },
      { DeleteRequest: { Key: { id: { S: 'k2' } } } },
    ]);
    await expect(writer.put(item(3))).rejects.toBeInstanceOf(WriteThrottledError);
  });
});
