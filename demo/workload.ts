import { randomBytes } from 'node:crypto';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type WriteRequest,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../functions/core/dynamo-json';

/**
 * Demo and test tables, and items that use every DynamoDB type: 38-digit numbers, binary,
 * string/number/binary sets, nested maps and lists, empty strings, NULL and BOOL.
 */
export type DemoTableKind = 'orders' | 'blobs';

export function demoTableDefinition(tableName: string, kind: DemoTableKind): CreateTableCommandInput {
  if (kind === 'orders') {
    return {
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'status', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-status',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    };
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'B' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  };
}

export async function createDemoTable(
  client: DynamoDBClient,
  tableName: string,
  kind: DemoTableKind,
): Promise<void> {
  await client.send(new CreateTableCommand(demoTableDefinition(tableName, kind)));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
}

const digits38 = (i: number) => `${String(i % 9 || 9)}${String(i).padStart(37, '7')}`.slice(0, 38);

/** A deterministic item number `i` of a demo table (same `i`, same item). */
export function demoItem(kind: DemoTableKind, i: number): Item {
  const common: Item = {
    amount: { N: `${i % 2 ? '-' : ''}${digits38(i)}` },
    price: { N: `${i}.${String(i % 1000).padStart(3, '0')}1` },
    note: { S: i % 7 === 0 ? '' : `item ${i} — ünïcødé ✓` },
    tags: { SS: [`t${i % 5}`, `t${(i % 5) + 1}`, 'all'] },
    scores: { NS: [String(i), '12345678901234567890123456789012345678', '-0.5'] },
    blobs: { BS: [new Uint8Array([i & 255, 0, 255]), new Uint8Array([7, (i >> 8) & 255])] },
    payload: { B: new Uint8Array(randomishBytes(i, 24)) },
    nested: {
      M: {
        level: { N: String(i % 10) },
        list: { L: [{ S: 'a' }, { N: '1' }, { M: { deep: { BOOL: i % 2 === 0 } } }, { NULL: true }] },
        empty: { S: '' },
        emptyList: { L: [] },
        emptyMap: { M: {} },
      },
    },
    active: { BOOL: i % 3 === 0 },
    nothing: { NULL: true },
  };
  if (kind === 'orders') {
    return {
      pk: { S: `customer#${i % 997}` },
      sk: { N: String(i) },
      status: { S: ['new', 'paid', 'shipped'][i % 3] ?? 'new' },
      ...common,
    };
  }
  return { id: { B: new Uint8Array(randomishBytes(i, 16)) }, ...common };
}

/** Deterministic pseudo-random bytes (xorshift) so items are reproducible yet varied. */
function randomishBytes(seed: number, length: number): number[] {
  let x = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & 255;
  });
}

/** Fresh random bytes, for callers that want unique binary keys. */
export const uniqueBytes = (n: number) => new Uint8Array(randomBytes(n));

/**
 * BatchWriteItem in 25s with `concurrency` requests in flight; UnprocessedItems are retried
 * with exponential backoff and full jitter.
 */
export async function loadItems(
  client: DynamoDBClient,
  tableName: string,
  items: Iterable<Item>,
  options: { concurrency?: number; onProgress?: (written: number) => void } = {},
): Promise<number> {
  const batches: WriteRequest[][] = [];
  let current: WriteRequest[] = [];
  for (const item of items) {
    current.push({ PutRequest: { Item: item as never } });
    if (current.length === 25) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);

  let next = 0;
  let written = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending: WriteRequest[] = batches[next++] ?? [];
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
        const { UnprocessedItems } = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
        );
        const left = UnprocessedItems?.[tableName] ?? [];
        written += pending.length - left.length;
        pending = left;
      }
      options.onProgress?.(written);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return written;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function* range(count: number, start = 0): Generator<number> {
  for (let i = start; i < start + count; i++) yield i;
}
