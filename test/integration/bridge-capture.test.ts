import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDemoTable, demoItem } from '../../demo/workload';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import {
  canonicalItem,
  canonicalJsonItem,
  type Item,
  itemToJson,
  type JsonItem,
} from '../../functions/core/dynamo-json';
import {
  itemIdentity,
  type KdsDynamoRecord,
  kdsDynamoRecord,
  logStreamName,
} from '../../functions/core/log-format';
import { type ChangeBridge, startChangeBridge } from '../../local/change-bridge';
import { enableChangeCapture, partitionKeyOf } from '../../local/change-capture';
import { kinesisClient } from '../../local/clients';
import { localClients, uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, catalog: sharedCatalog } = localClients(cfg);
const kinesis = kinesisClient(cfg);

interface Arrived {
  record: KdsDynamoRecord;
  partitionKey: string;
  shardId: string;
}

/** Every record of a stream, shard by shard, from TRIM_HORIZON to the end. */
async function readStream(client: KinesisClient, streamName: string): Promise<Arrived[]> {
  const arrived: Arrived[] = [];
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  for (const { ShardId: shardId = '' } of Shards) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const r of page.Records ?? []) {
        const record = kdsDynamoRecord.parse(JSON.parse(Buffer.from(r.Data ?? []).toString('utf8')));
        arrived.push({ record, partitionKey: r.PartitionKey ?? '', shardId });
      }
      iterator = page.Records?.length ? page.NextShardIterator : undefined;
    }
  }
  return arrived;
}

const canonical = (image: KdsDynamoRecord['dynamodb']['NewImage']) =>
  image ? canonicalJsonItem(image as JsonItem) : 'none';

/** What a write should produce: the item's state right after it (read back consistently). */
interface Expected {
  table: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  keys: JsonItem;
  newImage?: JsonItem;
}

describe('change bridge: DynamoDB Local Streams → Kinesis in the KDS-for-DynamoDB format', () => {
  const catalog = new MemoryCatalog();
  const cluster = uniqueName('br');
  const orders = uniqueName('orders');
  const blobs = uniqueName('blobs');
  let bridge: ChangeBridge;
  const expected: Expected[] = [];

  const keyOf = (table: string, item: Item): Item =>
    table === orders
      ? { pk: item.pk as Item[string], sk: item.sk as Item[string] }
      : { id: item.id as Item[string] };
  const record = async (table: string, eventName: Expected['eventName'], key: Item) => {
    const { Item: now } = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: key as never, ConsistentRead: true }),
    );
    expected.push({
      table,
      eventName,
      keys: itemToJson(key),
      ...(now ? { newImage: itemToJson(now as Item) } : {}),
    });
  };

  beforeAll(async () => {
    await Promise.all([
      createDemoTable(dynamodb, orders, 'orders'),
      createDemoTable(dynamodb, blobs, 'blobs'),
    ]);
    // A private catalog: the local cloud's own bridge never sees this cluster, so flush() is ours.
    await catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      tables: [orders, blobs],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    await enableChangeCapture(cfg, cluster, [orders, blobs]);
    bridge = startChangeBridge({ cfg, catalog, log: () => undefined });
  });

  afterAll(async () => {
    await bridge?.stop();
  });

  it('delivers puts, updates, deletes and a two-table transaction, each once, exact, in per-item time order', async () => {
    // Prepare
    const startedAt = Date.now() * 1000;
    const [o1, o2, o3] = [demoItem('orders', 1), demoItem('orders', 2), demoItem('orders', 3)];
    const [b1, b2] = [demoItem('blobs', 1), demoItem('blobs', 2)];
    // Act
    for (const [table, item] of [
      [orders, o1],
      [orders, o2],
      [blobs, b1],
      [blobs, b2],
    ] as const) {
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: item as never }));
      await record(table, 'INSERT', keyOf(table, item));
    }
    for (let i = 0; i < 5; i++) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: orders,
          Key: keyOf(orders, o1) as never,
          UpdateExpression: 'SET note = :n, amount = :a',
          ExpressionAttributeValues: {
            ':n': { S: `update ${i}` },
            ':a': { N: `9876543210987654321098765432109876543${i}` },
          },
        }),
      );
      await record(orders, 'MODIFY', keyOf(orders, o1));
    }
    await dynamodb.send(new DeleteItemCommand({ TableName: orders, Key: keyOf(orders, o2) as never }));
    await record(orders, 'REMOVE', keyOf(orders, o2));
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: orders, Item: o3 as never } },
          {
            Update: {
              TableName: orders,
              Key: keyOf(orders, o1) as never,
              UpdateExpression: 'SET #s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': { S: 'refunded' } },
            },
          },
          { Delete: { TableName: blobs, Key: keyOf(blobs, b1) as never } },
          {
            Update: {
              TableName: blobs,
              Key: keyOf(blobs, b2) as never,
              UpdateExpression: 'SET payload = :p',
              ExpressionAttributeValues: { ':p': { B: new Uint8Array([0, 1, 2, 253, 254, 255]) } },
            },
          },
        ],
      }),
    );
    await record(orders, 'INSERT', keyOf(orders, o3));
    await record(orders, 'MODIFY', keyOf(orders, o1));
    await record(blobs, 'REMOVE', keyOf(blobs, b1));
    await record(blobs, 'MODIFY', keyOf(blobs, b2));
    await bridge.flush();
    const arrived = await readStream(kinesis, logStreamName(cluster));
    // Assess
    expect(arrived).toHaveLength(expected.length);
    const byItem = new Map<string, Arrived[]>();
    for (const a of arrived) {
      const id = itemIdentity({ table: a.record.tableName, keys: a.record.dynamodb.Keys as JsonItem });
      byItem.set(id, [...(byItem.get(id) ?? []), a]);
    }
    const expectedByItem = new Map<string, Expected[]>();
    for (const e of expected) {
      const id = itemIdentity({ table: e.table, keys: e.keys });
      expectedByItem.set(id, [...(expectedByItem.get(id) ?? []), e]);
    }
    expect([...byItem.keys()].sort()).toEqual([...expectedByItem.keys()].sort());
    for (const [id, want] of expectedByItem) {
      const got = (byItem.get(id) ?? []).sort(
        (a, b) =>
          a.record.dynamodb.ApproximateCreationDateTime - b.record.dynamodb.ApproximateCreationDateTime,
      );
      const times = got.map((a) => a.record.dynamodb.ApproximateCreationDateTime);
      expect(new Set(times).size).toBe(times.length);
      // Sorted by timestamp, the changes are the writes in the order they were made.
      expect(got.map((a) => a.record.eventName)).toEqual(want.map((w) => w.eventName));
      got.forEach((a, i) => {
        const w = want[i];
        expect(canonicalJsonItem(a.record.dynamodb.Keys as JsonItem)).toBe(canonicalJsonItem(w?.keys ?? {}));
        // Sets are unordered: compare canonical forms (every type, 38 digits, bytes as base64).
        if (w?.newImage) expect(canonical(a.record.dynamodb.NewImage)).toBe(canonicalJsonItem(w.newImage));
        else expect(a.record.dynamodb.NewImage).toBeUndefined();
      });
      // One item, one partition key, one shard: its changes also arrive in order.
      expect(new Set(got.map((a) => a.partitionKey))).toEqual(
        new Set([partitionKeyOf(got[0]?.record.tableName ?? '', got[0]?.record.dynamodb.Keys as JsonItem)]),
      );
      expect(new Set(got.map((a) => a.shardId)).size).toBe(1);
    }
    for (const { record: r } of arrived) {
      expect(r).toMatchObject({
        eventSource: 'aws:dynamodb',
        recordFormat: 'application/json',
        awsRegion: cfg.region,
        userIdentity: null,
        dynamodb: { ApproximateCreationDateTimePrecision: 'MICROSECOND' },
      });
      expect(r.dynamodb.ApproximateCreationDateTime).toBeGreaterThanOrEqual(startedAt);
      expect(r.dynamodb.ApproximateCreationDateTime).toBeLessThanOrEqual(Date.now() * 1000);
      expect(r.dynamodb.SizeBytes).toBeGreaterThan(0);
      if (r.eventName !== 'INSERT') expect(r.dynamodb.OldImage).toBeDefined();
    }
    const removed = arrived.find((a) => a.record.eventName === 'REMOVE' && a.record.tableName === orders);
    expect(removed?.record.dynamodb.OldImage?.amount).toEqual({
      N: o2.amount && 'N' in o2.amount ? o2.amount.N : '',
    });
    expect(bridge.stats()).toMatchObject({ read: expected.length, put: expected.length, tables: 2 });
  });

  it('keeps one item\u2019s timestamps strictly increasing in write order under a burst of updates', async () => {
    // Prepare
    const item = demoItem('orders', 42);
    await dynamodb.send(new PutItemCommand({ TableName: orders, Item: item as never }));
    // Act
    for (let i = 0; i < 50; i++)
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: orders,
          Key: keyOf(orders, item) as never,
          UpdateExpression: 'SET price = :p',
          ExpressionAttributeValues: { ':p': { N: String(i) } },
        }),
      );
    await bridge.flush();
    // Assess
    const id = itemIdentity({ table: orders, keys: itemToJson(keyOf(orders, item)) });
    const mine = (await readStream(kinesis, logStreamName(cluster))).filter(
      (a) => itemIdentity({ table: a.record.tableName, keys: a.record.dynamodb.Keys as JsonItem }) === id,
    );
    expect(mine).toHaveLength(51);
    // Arrival order in the shard is write order, and the timestamps increase along it.
    const times = mine.map((a) => a.record.dynamodb.ApproximateCreationDateTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(51);
    expect(mine.slice(1).map((a) => a.record.dynamodb.NewImage?.price)).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ N: String(i) })),
    );
  });
});

describe('change bridge robustness', () => {
  it('logs a failing catalog, keeps retrying, and catches up once it answers', async () => {
    // Prepare
    const cluster = uniqueName('flaky');
    const table = uniqueName('orders');
    await createDemoTable(dynamodb, table, 'orders');
    await enableChangeCapture(cfg, cluster, [table]);
    const real = new MemoryCatalog();
    await real.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      tables: [table],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    let failures = 2;
    const flaky = {
      listClusters: async () => {
        if (failures-- > 0) throw new Error('catalog unreachable');
        return real.listClusters();
      },
    };
    const lines: string[] = [];
    const bridge = startChangeBridge({ cfg, catalog: flaky, discoveryMs: 100, log: (l) => lines.push(l) });
    try {
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: demoItem('orders', 1) as never }));
      // Act
      while (failures > 0) await new Promise((done) => setTimeout(done, 50));
      await bridge.flush();
      // Assess
      expect(lines.some((l) => l.includes('catalog unreachable'))).toBe(true);
      expect((await readStream(kinesis, logStreamName(cluster))).map((a) => a.record.eventName)).toEqual([
        'INSERT',
      ]);
    } finally {
      await bridge.stop();
    }
  });
});

describe('change bridge in the local cloud', () => {
  it('streams a cluster registered in the catalog without anything else started', async () => {
    // Prepare
    const cluster = uniqueName('cloud');
    const table = uniqueName('orders');
    await createDemoTable(dynamodb, table, 'orders');
    await sharedCatalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      tables: [table],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    await enableChangeCapture(cfg, cluster, [table]);
    // Act
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: demoItem('orders', 7) as never }));
    // Assess
    const deadline = Date.now() + 30_000;
    let arrived: Arrived[] = [];
    while (arrived.length === 0 && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 200));
      arrived = await readStream(kinesis, logStreamName(cluster));
    }
    expect(arrived.map((a) => a.record.eventName)).toEqual(['INSERT']);
    expect(canonical(arrived[0]?.record.dynamodb.NewImage)).toBe(canonicalItem(demoItem('orders', 7)));
  });
});
