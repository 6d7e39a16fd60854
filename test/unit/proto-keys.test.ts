import { Readable } from 'node:stream';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withProtoKeyRepair } from '../../functions/adapters/proto-key-plugin';
import {
  type AttributeValue,
  exportLine,
  type Item,
  itemFromJson,
  parseExportLine,
} from '../../functions/core/dynamo-json';
import { fastExportLine } from '../../functions/core/export-line';
import { decodeChangeRecord, logObjectText } from '../../functions/core/log-batch';
import { applyChanges, latestChanges } from '../../functions/core/replay';
import { decodeIfMine } from '../../functions/core/restore-work';
import { toKdsRecord } from '../../local/change-capture';

/**
 * Attribute names that are Object.prototype members (or `__proto__`, which assignment turns
 * into a prototype change) round-trip through every conversion and through the SDK clients.
 */

const TRICKY = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];
const attributeName = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ minLength: 1, maxLength: 6 }));
const bytes = fc.uint8Array({ minLength: 1, maxLength: 8 });

/** Objects built with own properties only (Object.fromEntries), unique names. */
const attributes = <T>(value: fc.Arbitrary<T>, minKeys: number) =>
  fc
    .uniqueArray(fc.tuple(attributeName, value), { minLength: minKeys, maxLength: 5, selector: ([n]) => n })
    .map((entries) => Object.fromEntries(entries) as Record<string, T>);

const leaf: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string().map((S) => ({ S })),
  fc.integer().map((n) => ({ N: String(n) })),
  bytes.map((B) => ({ B })),
  fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 3 }).map((SS) => ({ SS })),
  fc.boolean().map((BOOL) => ({ BOOL })),
  fc.constant({ NULL: true as const }),
);
const value: fc.Arbitrary<AttributeValue> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('map'), tie('list')),
  map: attributes(tie('value') as fc.Arbitrary<AttributeValue>, 0).map((M) => ({ M })),
  list: fc.array(tie('value'), { maxLength: 3 }).map((L) => ({ L: L as AttributeValue[] })),
})).value as fc.Arbitrary<AttributeValue>;

const trickyItem: fc.Arbitrary<Item> = attributes(value, 1).map(
  (rest) => Object.fromEntries([['pk', { S: 'p' }], ...Object.entries(rest)]) as Item,
);

/**
 * A strict rendering: own keys only (Object.keys, sorted), bytes as hex, and any object whose
 * prototype is not Object.prototype (what `x["__proto__"] = …` leaves) marked. Two values are
 * equal exactly when their renderings are; toEqual is not relied on for `__proto__`.
 */
function strict(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(strict).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const proto = Object.getPrototypeOf(v) === Object.prototype ? '' : '!proto!';
    const keys = Object.keys(v).sort();
    return `${proto}{${keys.map((k) => `${JSON.stringify(k)}:${strict((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

const keysOf = (it: Item): Item => ({ pk: it.pk as AttributeValue });

describe('attribute names like __proto__ and constructor', () => {
  it('strict() sees an own __proto__ key that toEqual may not', () => {
    const own = JSON.parse('{"a":{"S":"x"},"__proto__":{"S":"y"}}');
    expect(strict(own)).not.toBe(strict({ a: { S: 'x' } }));
  });

  it('round-trip through export lines (both writers) exactly', () => {
    fc.assert(
      fc.property(trickyItem, (original) => {
        const line = exportLine(original);
        expect(fastExportLine(original)).toBe(line);
        expect(strict(parseExportLine(line))).toBe(strict(original));
      }),
    );
  });

  it('round-trip stream record → Kinesis data → log line → replay exactly', () => {
    fc.assert(
      fc.property(trickyItem, (original) => {
        const kds = toKdsRecord(
          {
            eventID: 'e1',
            eventName: 'INSERT',
            dynamodb: { Keys: keysOf(original) as never, NewImage: original as never, SequenceNumber: '1' },
          },
          'orders',
          'us-east-1',
          1_700_000_000_000_000,
        );
        const data = Buffer.from(JSON.stringify(kds)).toString('base64');
        const change = decodeChangeRecord(data, 'shardId-0', '1');
        const text = logObjectText([change]);
        const back = decodeIfMine(text.trimEnd(), 0, 1, 'log/key', 1);
        if (!back) throw new Error('line not decoded');
        const state = applyChanges(new Map(), latestChanges([back], Number.MAX_SAFE_INTEGER).winners);
        const [image] = [...state.values()];
        if (!image) throw new Error('nothing replayed');
        expect(strict(itemFromJson(image))).toBe(strict(original));
      }),
    );
  });
});

/** A request handler answering every call with `body`, recording the request bodies. */
function fakeHandler(body: string) {
  const sent: string[] = [];
  return {
    sent,
    handle: async (request: { body?: unknown }) => {
      const b = request.body;
      sent.push(
        typeof b === 'string' ? b : Buffer.from((b as Uint8Array | undefined) ?? []).toString('utf8'),
      );
      const { HttpResponse } = await import('@smithy/core/protocols');
      return {
        response: new HttpResponse({
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Readable.from([Buffer.from(body)]),
        }),
      };
    },
  };
}

const settings = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const WIRE_ITEM =
  '{"pk":{"S":"p"},"__proto__":{"S":"user data"},"constructor":{"N":"1"},' +
  '"m":{"M":{"__proto__":{"M":{"__proto__":{"B":"AAE="},"toString":{"BS":["Ag=="]}}}}},' +
  '"l":{"L":[{"M":{"__proto__":{"SS":["a"]}}}]}}';
const EXPECTED = (): unknown =>
  JSON.parse(WIRE_ITEM, (k, v) => {
    if (k === 'B') return new Uint8Array(Buffer.from(v, 'base64'));
    if (k === 'BS') return v.map((s: string) => new Uint8Array(Buffer.from(s, 'base64')));
    return v;
  });

describe('SDK clients with the proto-key plug-in', () => {
  it('Scan gives Items and LastEvaluatedKey with __proto__ at every depth', async () => {
    const handler = fakeHandler(
      `{"Items":[${WIRE_ITEM}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"pk":{"S":"p"},"__proto__":{"S":"k"}}}`,
    );
    const client = withProtoKeyRepair(new DynamoDBClient({ ...settings, requestHandler: handler as never }));
    const out = await client.send(new ScanCommand({ TableName: 't' }));
    expect(strict(out.Items?.[0])).toBe(strict(EXPECTED()));
    expect(strict(out.LastEvaluatedKey)).toBe(strict(JSON.parse('{"pk":{"S":"p"},"__proto__":{"S":"k"}}')));
    expect(out.Count).toBe(1);
  });

  it('GetItem and BatchWriteItem UnprocessedItems (table named __proto__ too)', async () => {
    const get = fakeHandler(`{"Item":${WIRE_ITEM}}`);
    const client = withProtoKeyRepair(new DynamoDBClient({ ...settings, requestHandler: get as never }));
    expect(strict((await client.send(new GetItemCommand({ TableName: 't', Key: {} }))).Item)).toBe(
      strict(EXPECTED()),
    );
    const batch = fakeHandler(`{"UnprocessedItems":{"__proto__":[{"PutRequest":{"Item":${WIRE_ITEM}}}]}}`);
    const writer = withProtoKeyRepair(new DynamoDBClient({ ...settings, requestHandler: batch as never }));
    const out = await writer.send(new BatchWriteItemCommand({ RequestItems: { t: [] } }));
    const left = Object.getOwnPropertyDescriptor(out.UnprocessedItems, '__proto__')?.value;
    expect(strict(left?.[0]?.PutRequest?.Item)).toBe(strict(EXPECTED()));
  });

  it('Streams GetRecords gives Keys and images with __proto__ at every depth, dates as Dates', async () => {
    const handler = fakeHandler(
      `{"Records":[{"eventID":"1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1.7E9,` +
        `"Keys":{"pk":{"S":"p"}},"NewImage":${WIRE_ITEM},"SequenceNumber":"1"}}],"NextShardIterator":"x"}`,
    );
    const client = withProtoKeyRepair(
      new DynamoDBStreamsClient({ ...settings, requestHandler: handler as never }),
    );
    const out = await client.send(new GetRecordsCommand({ ShardIterator: 'x' }));
    const d = out.Records?.[0]?.dynamodb;
    expect(strict(d?.NewImage)).toBe(strict(EXPECTED()));
    expect(d?.ApproximateCreationDateTime).toBeInstanceOf(Date);
    expect(out.NextShardIterator).toBe('x');
  });

  it('PutItem and BatchWriteItem requests carry __proto__ at every depth (SDK serializer is own-key safe)', async () => {
    const handler = fakeHandler('{}');
    const client = withProtoKeyRepair(new DynamoDBClient({ ...settings, requestHandler: handler as never }));
    const input = EXPECTED() as Item;
    await client.send(new PutItemCommand({ TableName: 't', Item: input as never }));
    await client.send(
      new BatchWriteItemCommand({ RequestItems: { t: [{ PutRequest: { Item: input as never } }] } }),
    );
    const [put, batch] = handler.sent.map((s) => JSON.parse(s));
    expect(strict(put.Item)).toBe(strict(JSON.parse(WIRE_ITEM)));
    expect(strict(batch.RequestItems.t[0].PutRequest.Item)).toBe(strict(JSON.parse(WIRE_ITEM)));
  });

  it('leaves responses without __proto__ as the SDK gives them', async () => {
    const body = '{"Items":[{"pk":{"S":"p"},"b":{"B":"AAE="},"m":{"M":{"x":{"N":"1"}}}}],"Count":1}';
    const plain = new DynamoDBClient({ ...settings, requestHandler: fakeHandler(body) as never });
    const guarded = withProtoKeyRepair(
      new DynamoDBClient({ ...settings, requestHandler: fakeHandler(body) as never }),
    );
    const a = await plain.send(new ScanCommand({ TableName: 't' }));
    const b = await guarded.send(new ScanCommand({ TableName: 't' }));
    expect(strict(b.Items)).toBe(strict(a.Items));
  });
});
