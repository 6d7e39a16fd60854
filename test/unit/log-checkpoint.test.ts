import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeClusterCheckpoint,
  decideShard,
  rpoSeconds,
  type ShardView,
  sequenceWithin,
  shardStatuses,
} from '../../functions/core/checkpoint';

const MARGIN = 1_000_000;
const shard = (shardId: string, shippedTs?: number, extra: Partial<ShardView> = {}): ShardView => ({
  shardId,
  parentShardIds: [],
  endedInStream: false,
  checkpoint: shippedTs === undefined ? undefined : { shippedTs, closed: false },
  ...extra,
});
const closed = (shardId: string, shippedTs = 0): ShardView => ({
  shardId,
  parentShardIds: [],
  endedInStream: true,
  checkpoint: { shippedTs, closed: true },
});

describe('cluster checkpoint', () => {
  it('is the least open shard minus the margin, naming the shard that bounds it', () => {
    // Act
    const result = computeClusterCheckpoint([shard('a', 9_000_000), shard('b', 5_000_000)], [], MARGIN);
    // Assess
    expect(result).toEqual({ checkpoint: 4_000_000, limitedBy: 'shard b', activeShards: 2 });
  });

  it('is undefined while an open shard has no checkpoint, and with no open shard', () => {
    const waiting = computeClusterCheckpoint([shard('a', 9), shard('b')], [], MARGIN);
    expect(waiting.checkpoint).toBeUndefined();
    expect(waiting.limitedBy).toBe('shard b has no checkpoint yet');
    expect(computeClusterCheckpoint([closed('a')], [], MARGIN).checkpoint).toBeUndefined();
  });

  it('stays below a hold on a failed record until it is shipped or its gap recorded', () => {
    // Act
    const result = computeClusterCheckpoint(
      [shard('a', 9_000_000)],
      [{ shardId: 'a', sequenceNumber: '77', ts: 3_000_000 }],
      MARGIN,
    );
    // Assess
    expect(result).toMatchObject({ checkpoint: 2_000_000, limitedBy: 'hold a/77' });
  });

  it('skips closed shards; children wait for every listed parent to close', () => {
    // Prepare: p1 closed, p2 still open (merge into c) ; s split from p1 only
    const shards = [
      closed('p1', 1_000),
      shard('p2', 5_000_000, { endedInStream: true }),
      shard('c', undefined, { parentShardIds: ['p1', 'p2'] }),
      shard('s', 7_000_000, { parentShardIds: ['p1'] }),
      shard('orphan', 8_000_000, { parentShardIds: ['expired'] }),
    ];
    // Act
    const statuses = shardStatuses(shards);
    const result = computeClusterCheckpoint(shards, [], MARGIN);
    // Assess
    expect(Object.fromEntries(statuses)).toEqual({
      p1: 'closed',
      p2: 'active',
      c: 'waiting',
      s: 'active',
      orphan: 'active',
    });
    expect(result).toEqual({ checkpoint: 4_000_000, limitedBy: 'shard p2', activeShards: 3 });
  });

  const topology = fc
    .array(
      fc.record({ shippedTs: fc.integer({ min: 0, max: 1e12 }), closed: fc.boolean(), parent: fc.nat(5) }),
      {
        minLength: 1,
        maxLength: 6,
      },
    )
    .map((specs) =>
      specs.map(
        (s, i): ShardView => ({
          shardId: `s${i}`,
          parentShardIds: s.parent < i ? [`s${s.parent}`] : [],
          endedInStream: s.closed,
          checkpoint: { shippedTs: s.shippedTs, closed: s.closed },
        }),
      ),
    );
  const holds = fc.array(
    fc.record({
      shardId: fc.constant('s0'),
      sequenceNumber: fc.nat().map(String),
      ts: fc.integer({ min: 0, max: 1e12 }),
    }),
    {
      maxLength: 3,
    },
  );

  it('never exceeds any open shard or hold, minus the margin (property)', () => {
    fc.assert(
      fc.property(topology, holds, fc.integer({ min: 0, max: 5e6 }), (shards, hs, margin) => {
        // Act
        const { checkpoint } = computeClusterCheckpoint(shards, hs, margin);
        // Assess
        const statuses = shardStatuses(shards);
        for (const s of shards) {
          if (checkpoint !== undefined && statuses.get(s.shardId) === 'active') {
            expect(checkpoint).toBeLessThanOrEqual((s.checkpoint?.shippedTs ?? 0) - margin);
          }
        }
        for (const h of hs)
          if (checkpoint !== undefined) expect(checkpoint).toBeLessThanOrEqual(h.ts - margin);
      }),
    );
  });

  it('never goes backwards when shard checkpoints advance (property)', () => {
    fc.assert(
      fc.property(
        topology,
        fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 6, maxLength: 6 }),
        (shards, steps) => {
          // Prepare
          const advanced = shards.map((s, i) => ({
            ...s,
            checkpoint: s.checkpoint && {
              ...s.checkpoint,
              shippedTs: s.checkpoint.shippedTs + (steps[i] ?? 0),
            },
          }));
          // Act
          const before = computeClusterCheckpoint(shards, [], MARGIN).checkpoint;
          const after = computeClusterCheckpoint(advanced, [], MARGIN).checkpoint;
          // Assess
          if (before !== undefined) expect(after).toBeGreaterThanOrEqual(before);
        },
      ),
    );
  });
});

describe('advancer decision for one shard', () => {
  const seen = { endedInStream: false, shardEnd: false, millisBehindLatest: 0, calledAt: 50_000_000 };

  it('an idle open shard at the stream tip advances to the call time', () => {
    expect(decideShard(10_000_000, seen)).toEqual({ kind: 'advance', shippedTs: 50_000_000 });
    expect(decideShard(undefined, seen)).toEqual({ kind: 'advance', shippedTs: 50_000_000 });
    expect(decideShard(60_000_000, seen).kind).toBe('none');
  });

  it('does not advance a shard behind the tip, nor past a record still to ship', () => {
    expect(decideShard(10_000_000, { ...seen, millisBehindLatest: 2_000 }).kind).toBe('none');
    expect(decideShard(10_000_000, { ...seen, millisBehindLatest: undefined }).kind).toBe('none');
    expect(decideShard(10_000_000, { ...seen, firstRecordArrival: 30_000_000 })).toEqual({
      kind: 'advance',
      shippedTs: 29_999_999,
    });
    expect(decideShard(40_000_000, { ...seen, firstRecordArrival: 30_000_000 }).kind).toBe('none');
  });

  it('closes an ended shard read to its end, and never moves it by the idle rule', () => {
    expect(decideShard(10, { ...seen, endedInStream: true, shardEnd: true })).toEqual({ kind: 'close' });
    expect(decideShard(10, { ...seen, endedInStream: true, shardEnd: false }).kind).toBe('none');
  });
});

describe('helpers', () => {
  it('rpo in seconds and sequence ranges in Kinesis order', () => {
    expect(rpoSeconds(1_000_000, 3_500_000)).toBe(2.5);
    expect(rpoSeconds(5, 1)).toBe(0);
    expect(sequenceWithin('99', '9', '100')).toBe(true);
    expect(sequenceWithin('101', '9', '100')).toBe(false);
    expect(sequenceWithin('8', '9', '100')).toBe(false);
  });
});
