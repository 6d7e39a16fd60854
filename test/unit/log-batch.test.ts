import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrivalMicros,
  decodeChangeRecord,
  groupChanges,
  logObjectText,
  MalformedChangeRecordError,
  shardOfEventId,
  shardProgress,
} from '../../functions/core/log-batch';
import { type ChangeRecord, changeRecord } from '../../functions/core/log-format';
import { parseIsoMicros } from '../../functions/core/time';
import { type Change, json, kdsRecord, prng, shuffle } from '../support/log-fixtures';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const T0 = parseIsoMicros('2026-11-27T04:59:59.999000Z');
const change = (i: number, extra: Partial<Change> = {}): Change => ({
  table: 'orders',
  op: 'MODIFY',
  keys: { pk: { S: `k${i}` } },
  newImage: { pk: { S: `k${i}` }, n: { N: String(i) } },
  ts: T0 + i * 400,
  ...extra,
});
const record = (c: Change, seq: string, shardId = 'shardId-000000000000'): ChangeRecord =>
  decodeChangeRecord(b64(json(kdsRecord(c))), shardId, seq);

describe('decoding Kinesis-Data-Streams-for-DynamoDB records', () => {
  it('decodes a change with microsecond and millisecond timestamps', () => {
    // Prepare
    const micro = kdsRecord(change(1));
    const milli = {
      ...micro,
      dynamodb: {
        ...micro.dynamodb,
        ApproximateCreationDateTime: 1_790_000_000_123,
        ApproximateCreationDateTimePrecision: 'MILLISECOND',
      },
    };
    // Act
    const a = decodeChangeRecord(b64(json(micro)), 'shardId-000000000003', '42');
    const b = decodeChangeRecord(b64(json(milli)), 'shardId-000000000003', '43');
    // Assess
    expect(a).toMatchObject({
      table: 'orders',
      op: 'MODIFY',
      ts: T0 + 400,
      shardId: 'shardId-000000000003',
      sequenceNumber: '42',
    });
    expect(changeRecord.parse(a)).toEqual(a);
    expect(b.ts).toBe(1_790_000_000_123_000);
  });

  it('drops NewImage of a REMOVE and keeps keys as DynamoDB JSON', () => {
    // Act
    const removed = record(change(2, { op: 'REMOVE', newImage: { pk: { S: 'k2' } } }), '7');
    // Assess
    expect(removed.newImage).toBeUndefined();
    expect(removed.keys).toEqual({ pk: { S: 'k2' } });
  });

  it('rejects data that is not JSON or not a change, naming the problem and the record', () => {
    // Prepare
    const wrongShape = { ...kdsRecord(change(3)), eventName: 'UPSERT' };
    const noTimestamp = { ...kdsRecord(change(3)), dynamodb: { Keys: { pk: { S: 'x' } } } };
    // Act
    const decode = (data: string) => () => decodeChangeRecord(data, 'shardId-000000000000', '99');
    // Assess
    expect(decode(b64('{not json'))).toThrow(MalformedChangeRecordError);
    expect(decode(b64('{not json'))).toThrow(/record 99 .*not JSON/);
    expect(decode(b64(json(wrongShape)))).toThrow(/eventName/);
    expect(decode(b64(json(noTimestamp)))).toThrow(/dynamodb\.ApproximateCreationDateTime/);
    expect(decode(b64('"just a string"'))).toThrow(MalformedChangeRecordError);
  });

  it('reads the shard from the eventID and arrival seconds as microseconds', () => {
    expect(shardOfEventId('shardId-000000000006:4959033827149025660855969253836157109592')).toBe(
      'shardId-000000000006',
    );
    expect(arrivalMicros(1545084650.987)).toBe(1_545_084_650_987_000);
  });
});

describe('grouping changes into log objects', () => {
  it('groups by shard, table and hour of change time, keyed by the first sequence number', () => {
    // Prepare: ts of change(0..2) fall in hour 04, change(3..) in hour 05
    const records = [
      record(change(0), '100'),
      record(change(1), '101'),
      record(change(2), '102'),
      record(change(3), '103'),
      record(change(4, { table: 'users' }), '104'),
      record(change(5), '105', 'shardId-000000000001'),
    ];
    // Act
    const groups = groupChanges('shop', records);
    // Assess
    expect(groups.map((g) => g.key)).toEqual([
      'v1/shop/logs/orders/20261127T04/shardId-000000000000-100.json.gz',
      'v1/shop/logs/orders/20261127T05/shardId-000000000000-103.json.gz',
      'v1/shop/logs/orders/20261127T05/shardId-000000000001-105.json.gz',
      'v1/shop/logs/users/20261127T05/shardId-000000000000-104.json.gz',
    ]);
    expect(groups[0]).toMatchObject({
      firstSequenceNumber: '100',
      lastSequenceNumber: '102',
      minTs: T0,
      maxTs: T0 + 800,
    });
    expect(groups[0]?.records.map((r) => r.sequenceNumber)).toEqual(['100', '101', '102']);
  });

  it('gives the same keys and bytes whatever the input order, once per sequence number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer(), (n, seed) => {
        // Prepare: sequence numbers of different lengths (9 < 10 < 100 in Kinesis order)
        const records = Array.from({ length: n }, (_, i) =>
          record(change(i * 7, { table: i % 3 ? 'orders' : 'users' }), String(9 + i * 13)),
        );
        const random = prng(seed);
        const shuffled = shuffle([...records, ...records.filter(() => random() < 0.3)], random);
        // Act
        const a = groupChanges('c', records);
        const b = groupChanges('c', shuffled);
        // Assess
        expect(b.map((g) => g.key)).toEqual(a.map((g) => g.key));
        expect(b.map((g) => logObjectText(g.records))).toEqual(a.map((g) => logObjectText(g.records)));
        expect(b.reduce((sum, g) => sum + g.records.length, 0)).toBe(n);
      }),
    );
  });

  it('writes one ChangeRecord per line that parses back unchanged', () => {
    // Prepare
    const records = [record(change(1), '1'), record(change(2, { op: 'REMOVE' }), '2')];
    // Act
    const lines = logObjectText(records).trimEnd().split('\n');
    // Assess
    expect(lines.map((l) => changeRecord.parse(JSON.parse(l)))).toEqual(records);
  });
});

describe('how far a batch moves its shard checkpoint', () => {
  const batch = [
    { sequenceNumber: '10', arrival: 1_000_000 },
    { sequenceNumber: '11', arrival: 1_000_000 },
    { sequenceNumber: '12', arrival: 2_000_000 },
    { sequenceNumber: '100', arrival: 3_000_000 },
  ];

  it('without failures: up to just before the last arrival', () => {
    expect(shardProgress(shuffle(batch, prng(1)), new Set())).toEqual({
      shippedTs: 2_999_999,
      lastSequenceNumber: '100',
      firstShipped: true,
      firstSequenceNumber: '10',
    });
  });

  it('with failures: never past the first failed record (lowest sequence number)', () => {
    expect(shardProgress(batch, new Set(['100', '12']))).toEqual({
      shippedTs: 1_999_999,
      lastSequenceNumber: '11',
      firstFailure: { sequenceNumber: '12', ts: 1_999_999 },
      firstShipped: true,
      firstSequenceNumber: '10',
    });
    expect(shardProgress(batch, new Set(['10']))).toMatchObject({
      shippedTs: 999_999,
      lastSequenceNumber: undefined,
      firstShipped: false,
    });
    expect(shardProgress([], new Set())).toBeUndefined();
  });
});
