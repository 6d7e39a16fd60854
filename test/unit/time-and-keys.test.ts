import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/core/errors';
import { chunkKey, logKey, manifestKey, parseSnapshotKey, snapshotPrefix } from '../../functions/core/keys';
import { chooseSegmentCount } from '../../functions/core/segments';
import {
  formatIsoMicros,
  formatKeyTime,
  LATEST_INSTANT,
  parseIsoMicros,
  parseKeyTime,
} from '../../functions/core/time';

// 2000-01-01 .. 2200-01-01 in microseconds.
const instant = fc.integer({ min: 946_684_800_000_000, max: 7_258_118_400_000_000 });

describe('instants', () => {
  it('ISO and key forms round-trip every microsecond instant', () => {
    fc.assert(
      fc.property(instant, (micros) => {
        expect(parseIsoMicros(formatIsoMicros(micros))).toBe(micros);
        expect(parseKeyTime(formatKeyTime(micros))).toBe(micros);
      }),
    );
  });

  it('key form sorts lexically in time order (fixed width)', () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const [ka, kb] = [formatKeyTime(a), formatKeyTime(b)];
        expect(Math.sign(ka.localeCompare(kb))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('formats the documented shapes', () => {
    const micros = parseIsoMicros('2026-11-27T04:15:00.123456Z');
    expect(formatKeyTime(micros)).toBe('20261127T041500.123456Z');
    expect(formatIsoMicros(parseIsoMicros('2026-11-27T04:15:00Z'))).toBe('2026-11-27T04:15:00.000000Z');
    expect(formatIsoMicros(parseIsoMicros('2026-11-27T04:15:00.5Z'))).toBe('2026-11-27T04:15:00.500000Z');
  });

  it('rejects malformed and impossible instants, naming the field', () => {
    expect(() => parseIsoMicros('yesterday', '--to')).toThrow(InvalidInputError);
    expect(() => parseIsoMicros('yesterday', '--to')).toThrow(/--to/);
    expect(() => parseIsoMicros('2026-02-30T00:00:00Z')).toThrow(/calendar/);
    expect(() => parseIsoMicros('2026-11-27T04:15:00.1234567Z')).toThrow(InvalidInputError);
  });

  it('says why an instant past 2255 is refused (precision), not that it is no calendar date', () => {
    // Act / Assess
    expect(() => parseIsoMicros('9999-12-31T23:59:59.999999Z', 'to')).toThrow(
      /invalid to: expected an instant between 1970 and 2255/,
    );
    expect(formatIsoMicros(parseIsoMicros(LATEST_INSTANT))).toBe(LATEST_INSTANT);
  });
});

describe('S3 key layout', () => {
  it('builds and parses snapshot keys', () => {
    const start = parseIsoMicros('2026-11-27T04:15:00.123456Z');
    const prefix = snapshotPrefix('shop', start, '20261127T041500-abc123');
    expect(prefix).toBe('v1/shop/snapshots/20261127T041500.123456Z-20261127T041500-abc123/');
    expect(manifestKey(prefix)).toBe(`${prefix}manifest.json`);
    expect(chunkKey(prefix, 'orders', 3, 12)).toBe(`${prefix}orders/000003-000012.json.gz`);
    expect(parseSnapshotKey(chunkKey(prefix, 'orders', 3, 12))).toEqual({
      cluster: 'shop',
      startTs: start,
      backupId: '20261127T041500-abc123',
      rest: 'orders/000003-000012.json.gz',
    });
  });

  it('puts log objects in hour buckets', () => {
    const ts = parseIsoMicros('2026-11-27T04:15:00.123456Z');
    expect(logKey('shop', 'orders', ts, 'shardId-000000000001', '4960')).toBe(
      'v1/shop/logs/orders/20261127T04/shardId-000000000001-4960.json.gz',
    );
  });
});

describe('segment count', () => {
  const policy = { targetBytesPerSegment: 1_000, minSegments: 4, maxSegments: 100 };
  it('scales with table size within the policy bounds', () => {
    expect(chooseSegmentCount(0, policy)).toBe(4);
    expect(chooseSegmentCount(10_500, policy)).toBe(11);
    expect(chooseSegmentCount(10_000_000, policy)).toBe(100);
    fc.assert(
      fc.property(fc.nat(), (size) => {
        const n = chooseSegmentCount(size, policy);
        expect(n).toBeGreaterThanOrEqual(4);
        expect(n).toBeLessThanOrEqual(100);
      }),
    );
  });
});
