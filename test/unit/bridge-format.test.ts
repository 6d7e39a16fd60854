import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { kdsDynamoRecord, toChangeRecord } from '../../functions/core/log-format';
import { createTimestamper, partitionKeyOf, repairStreamItem, toKdsRecord } from '../../local/change-capture';

const keys = { pk: { S: 'customer#1' }, sk: { N: '12345678901234567890123456789012345678' } };

function streamRecord(overrides: Partial<StreamRecord['dynamodb']> = {}): StreamRecord {
  return {
    eventID: 'e-1',
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-11-27T04:15:00.000Z'),
      Keys: keys,
      NewImage: {
        ...keys,
        blob: { B: new Uint8Array([0, 1, 254, 255]) },
        tags: { SS: ['b', 'a'] },
        nested: { M: { empty: {}, list: { L: [{}, { N: '-0.5' }] } } },
      } as never,
      OldImage: { ...keys, note: { S: '' } },
      SequenceNumber: '000000000000000000001',
      SizeBytes: 97,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...overrides,
    },
  };
}

describe('toKdsRecord', () => {
  it('writes the Kinesis-Data-Streams-for-DynamoDB format with DynamoDB JSON kept exact', () => {
    // Prepare
    const ts = 1_795_752_900_123_456;
    // Act
    const kds = toKdsRecord(streamRecord(), 'orders', 'us-east-1', ts);
    // Assess
    expect(kdsDynamoRecord.parse(JSON.parse(JSON.stringify(kds)))).toEqual(kds);
    expect(kds).toEqual({
      awsRegion: 'us-east-1',
      eventID: 'e-1',
      eventName: 'MODIFY',
      userIdentity: null,
      recordFormat: 'application/json',
      tableName: 'orders',
      dynamodb: {
        ApproximateCreationDateTime: ts,
        ApproximateCreationDateTimePrecision: 'MICROSECOND',
        Keys: keys,
        NewImage: {
          ...keys,
          blob: { B: 'AAH+/w==' },
          tags: { SS: ['b', 'a'] },
          nested: { M: { empty: { M: {} }, list: { L: [{ M: {} }, { N: '-0.5' }] } } },
        },
        OldImage: { ...keys, note: { S: '' } },
        SizeBytes: 97,
      },
      eventSource: 'aws:dynamodb',
    });
    expect(toChangeRecord(kds, 'shardId-000000000000', '1').ts).toBe(ts);
  });

  it('has no NewImage for a REMOVE and refuses a record without keys', () => {
    // Prepare
    const removed = { ...streamRecord({ NewImage: undefined }), eventName: 'REMOVE' as const };
    // Act
    const kds = toKdsRecord(removed, 'orders', 'us-east-1', 1);
    // Assess
    expect(kds.dynamodb.NewImage).toBeUndefined();
    expect(kds.dynamodb.OldImage).toBeDefined();
    expect(() => toKdsRecord(streamRecord({ Keys: undefined }), 'orders', 'us-east-1', 1)).toThrow(/Keys/);
  });
});

describe('repairStreamItem', () => {
  it('turns DynamoDB Local’s {} back into an empty map at any depth, and leaves the rest alone', () => {
    // Act
    const repaired = repairStreamItem({
      a: {},
      l: { L: [{}, { L: [] }] },
      n: { NULL: true },
      m: { M: { x: {} } },
    });
    // Assess
    expect(repaired).toEqual({
      a: { M: {} },
      l: { L: [{ M: {} }, { L: [] }] },
      n: { NULL: true },
      m: { M: { x: { M: {} } } },
    });
  });
});

describe('createTimestamper', () => {
  it('is strictly increasing even when the clock stands still or goes back', () => {
    // Prepare
    const clock = [1_000, 1_000, 1_000, 900, 5_000];
    const stamp = createTimestamper(() => clock.shift() ?? 0);
    // Act
    const stamps = [stamp(0), stamp(0), stamp(0), stamp(0), stamp(0)];
    // Assess
    expect(stamps).toEqual([1_000, 1_001, 1_002, 1_003, 5_000]);
  });

  it('never goes below the stream’s own (minute-truncated) timestamp', () => {
    // Prepare
    const stamp = createTimestamper(() => 10);
    // Act
    const ts = stamp(60_000_000);
    // Assess
    expect(ts).toBe(60_000_000);
    expect(stamp(0)).toBe(60_000_001);
  });
});

describe('partitionKeyOf', () => {
  it('depends on the table and the key, not on attribute order', () => {
    // Prepare
    const a = { pk: { S: 'x' }, sk: { N: '1' } };
    const b = { sk: { N: '1' }, pk: { S: 'x' } };
    // Act
    const key = partitionKeyOf('orders', a);
    // Assess
    expect(key).toBe(partitionKeyOf('orders', b));
    expect(key).not.toBe(partitionKeyOf('other', a));
    expect(key).not.toBe(partitionKeyOf('orders', { ...a, sk: { N: '2' } }));
    expect(key.length).toBeLessThanOrEqual(256);
  });
});
