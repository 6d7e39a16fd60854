import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Item, itemToJson } from '../../functions/core/dynamo-json';
import type { ChangeRecord } from '../../functions/core/log-format';
import { decodeIfMine, partitionOfKeys } from '../../functions/core/restore-work';
import type { Micros } from '../../functions/core/time';
import { item as anyItem } from '../support/items';
import { driveExecution, type FakeTable, RestoreWorld } from '../support/restore-fakes';

/**
 * Restore workers on in-memory fakes: the replay worker's memory bound, resuming after a
 * crash in load or replay, replaying twice, and refusing corrupt objects.
 */
const B: Micros = 1_800_000_000_000_000;
const MARGIN = 10;
const table: FakeTable = {
  name: 'orders',
  keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
};

/** 60 snapshot items, then 600 changes over 120 keys (puts and deletes), 40 per log object. */
async function workload(w = new RestoreWorld('shop')) {
  await w.register([table]);
  const snapshotItems = Array.from({ length: 60 }, (_, i): Item => ({ id: { S: `k${i}` }, v: { N: '0' } }));
  await w.snapshot(
    'b1',
    { startTs: B, endTs: B + 100, marginMicros: MARGIN },
    [{ table, items: snapshotItems }],
    {
      segments: 3,
      itemsPerChunk: 7,
    },
  );
  const records: ChangeRecord[] = Array.from({ length: 600 }, (_, n) => {
    const key = { id: { S: `k${(n * 7) % 120}` } };
    const remove = n % 5 === 4;
    return {
      table: 'orders',
      op: remove ? 'REMOVE' : 'MODIFY',
      keys: itemToJson(key),
      newImage: remove ? undefined : itemToJson({ ...key, v: { N: String(n) } }),
      ts: B + 50 + n,
      eventId: `e${n}`,
      shardId: 's',
      sequenceNumber: String(n),
    };
  });
  for (let i = 0; i < records.length; i += 40) await w.logObject(records.slice(i, i + 40), i % 80 === 0);
  await w.checkpoint(B + 2_000);
  return { w, records };
}

/** B + 500 µs: in the middle of the changes. */
const MID = '2027-01-15T08:00:00.000500Z';

async function restore(w: RestoreWorld, prefix: string, perPartition = 100, to = MID) {
  const registry = w.registry({ targetRecordsPerPartition: perPartition });
  const started = await registry['start-restore']({ cluster: 'shop', to, targetPrefix: prefix }, MARGIN);
  await driveExecution(registry, { cluster: 'shop', restoreId: started.restoreId });
  return { registry, restoreId: started.restoreId };
}

describe('replay worker memory bound', () => {
  it('each worker keeps exactly its own partition of the window, though it reads every object of its table', async () => {
    // Prepare
    const { w, records } = await workload();
    const { restoreId } = await restore(w, 'r-', 100, '2027-01-15T08:00:00.001000Z');
    const job = await w.restoreCatalog.getRestore('shop', restoreId);
    const logTo = job?.restorePoint ?? 0;
    const inWindow = records.filter((r) => r.ts >= B - MARGIN && r.ts <= logTo);
    // Assess: 600 records / 100 per partition → 6 partitions
    const units = Object.entries(job?.replayUnits ?? {});
    expect(units.map(([id]) => id).sort()).toEqual([0, 1, 2, 3, 4, 5].map((p) => `orders#p${p}of6`));
    for (const [id, unit] of units) {
      const p = Number(/#p(\d+)of/.exec(id)?.[1]);
      const own = inWindow.filter((r) => partitionOfKeys(r.keys, 6) === p).length;
      expect(unit.kept, id).toBe(own);
      expect(unit.kept).toBeLessThan(inWindow.length / 2);
      expect(unit.scanned).toBe(records.length);
    }
    expect(units.reduce((sum, [, u]) => sum + u.kept, 0)).toBe(inWindow.length);
  });

  it('the fast key-only path and the full parse agree on every line, in either field order', () => {
    fc.assert(
      fc.property(
        anyItem,
        fc.option(anyItem),
        fc.integer({ min: 1, max: 7 }),
        fc.boolean(),
        (keys, image, n, canonical) => {
          const record = {
            table: 't-1',
            op: image ? 'MODIFY' : 'REMOVE',
            keys: itemToJson(keys),
            newImage: image ? itemToJson(image) : undefined,
            ts: 5,
          };
          const line = canonical
            ? JSON.stringify(record)
            : JSON.stringify({
                ts: record.ts,
                newImage: record.newImage,
                keys: record.keys,
                op: record.op,
                table: record.table,
              });
          const owners = Array.from({ length: n }, (_, p) => decodeIfMine(line, p, n, 'k', 1)).filter(
            Boolean,
          );
          expect(owners).toHaveLength(1);
          expect(owners[0]?.keys).toEqual(record.keys);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('key-hash partitioning of log lines', () => {
  it('hashing the raw key text agrees with the canonical key for scalar keys, any names, escapes and order', () => {
    const scalar = fc.oneof(
      fc.string().map((S) => ({ S })),
      fc.integer().map((n) => ({ N: String(n) })),
      fc.base64String({ minLength: 4, maxLength: 12 }).map((B) => ({ B })),
    );
    const keys = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), scalar, { minKeys: 1, maxKeys: 2 });
    fc.assert(
      fc.property(keys, fc.integer({ min: 2, max: 9 }), (k, n) => {
        const line = Buffer.from(JSON.stringify({ table: 'orders', op: 'REMOVE', keys: k, ts: 1 }));
        const owners = Array.from({ length: n }, (_, p) => p).filter((p) => decodeIfMine(line, p, n, 'k', 1));
        expect(owners).toEqual([partitionOfKeys(k as never, n)]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('interrupted restores, resumed, end like uninterrupted ones', () => {
  it.each(['load', 'replay'] as const)('a crash during %s, then resume: the same tables', async (phase) => {
    // Prepare: a reference restore, then one whose writer dies after 30 writes of that phase.
    const { w } = await workload();
    await restore(w, 'ref-');
    const registry = w.registry({ targetRecordsPerPartition: 100 });
    let current: 'load' | 'replay' = 'load';
    const planReplay = registry['restore-plan-replay'];
    registry['restore-plan-replay'] = async (e) => {
      current = 'replay';
      return planReplay(e);
    };
    let writes = 0;
    let armed = true;
    w.tables.beforeWrite = (target) => {
      if (!armed || !target.startsWith('cut-') || current !== phase) return;
      if (++writes > 30) {
        armed = false;
        throw new Error('worker killed');
      }
    };
    const started = await registry['start-restore'](
      { cluster: 'shop', to: '2027-01-15T08:00:00.000500Z', targetPrefix: 'cut-' },
      MARGIN,
    );
    // Act
    await driveExecution(registry, { cluster: 'shop', restoreId: started.restoreId });
    const failed = await w.restoreCatalog.getRestore('shop', started.restoreId);
    await registry['restore-resume']({ cluster: 'shop', restoreId: started.restoreId });
    const [, resumed] = w.started.filter((s) => s.input.restoreId === started.restoreId);
    await driveExecution(registry, { cluster: 'shop', restoreId: started.restoreId });
    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', failure: { error: 'Error', cause: 'worker killed' } });
    expect(resumed?.name).toBe(`${started.restoreId}-2`);
    const done = await w.restoreCatalog.getRestore('shop', started.restoreId);
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(w.tables.canonicalItems('cut-orders')).toEqual(w.tables.canonicalItems('ref-orders'));
    expect(w.tables.canonicalItems('cut-orders').length).toBeGreaterThan(0);
  });

  it('replaying the log twice over the same tables gives the same tables', async () => {
    // Prepare: replay units whose progress record fails once, after their writes: each
    // unit's changes are applied, then applied again by the resumed execution.
    const { w } = await workload();
    await restore(w, 'ref-');
    const registry = w.registry({ targetRecordsPerPartition: 100 });
    const record = w.restoreCatalog.recordReplayUnit.bind(w.restoreCatalog);
    let failures = 0;
    w.restoreCatalog.recordReplayUnit = async (...args) => {
      if (failures++ === 0) {
        await record(...args);
        throw new Error('lost after apply');
      }
      return record(...args);
    };
    const started = await registry['start-restore'](
      { cluster: 'shop', to: '2027-01-15T08:00:00.000500Z', targetPrefix: 'twice-' },
      MARGIN,
    );
    await driveExecution(registry, { cluster: 'shop', restoreId: started.restoreId });
    const afterFirst = w.tables.canonicalItems('twice-orders');
    // Act: every unit replayed again (progress wiped as if none had been recorded).
    const job = await w.restoreCatalog.getRestore('shop', started.restoreId);
    expect(job?.status).toBe('FAILED');
    await registry['restore-resume']({ cluster: 'shop', restoreId: started.restoreId });
    const stored = (w.restoreCatalog as unknown as { jobs: Map<string, { replayUnits: object }> }).jobs.get(
      `shop/${started.restoreId}`,
    );
    if (stored) stored.replayUnits = {};
    await driveExecution(registry, { cluster: 'shop', restoreId: started.restoreId });
    // Assess
    expect((await w.restoreCatalog.getRestore('shop', started.restoreId))?.status).toBe('COMPLETED');
    expect(w.tables.canonicalItems('twice-orders')).toEqual(w.tables.canonicalItems('ref-orders'));
    expect(afterFirst.length).toBeGreaterThan(0);
  });
});

describe('checksums', () => {
  it.each(['chunk', 'log object'] as const)(
    'a corrupt %s fails the restore with ChecksumMismatchError naming the object',
    async (what) => {
      // Prepare
      const { w } = await workload();
      const key = [...w.store.objects.keys()].find((k) =>
        what === 'chunk' ? k.includes('/orders/000001-') : k.includes('/logs/'),
      );
      if (!key) throw new Error('no object to corrupt');
      const body = w.store.objects.get(key) as Buffer;
      const corrupt = Buffer.from(body);
      const at = corrupt.length - 5;
      corrupt.writeUInt8(corrupt.readUInt8(at) ^ 0xff, at);
      w.store.objects.set(key, corrupt);
      // Act
      const { restoreId } = await restore(w, 'bad-');
      // Assess
      const job = await w.restoreCatalog.getRestore('shop', restoreId);
      expect(job?.status).toBe('FAILED');
      expect(job?.failure?.error).toBe('ChecksumMismatchError');
      expect(job?.failure?.cause).toContain(key);
    },
  );
});

describe('an existing empty target table', () => {
  it('with other keys fails the restore with a message naming both sides: its keys and the backup table keys', async () => {
    // Prepare: an empty r-orders keyed by pk + sk, where the backup's orders is keyed by id.
    const { w } = await workload();
    await w.tables.create('r-orders', {
      ...table,
      tableName: 'r-orders',
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      attributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      billingMode: 'PAY_PER_REQUEST',
      globalSecondaryIndexes: [],
      localSecondaryIndexes: [],
    } as unknown as Parameters<typeof w.tables.create>[1]);
    // Act
    const { restoreId } = await restore(w, 'r-');
    // Assess
    const job = await w.restoreCatalog.getRestore('shop', restoreId);
    expect(job?.status).toBe('FAILED');
    expect(job?.failure?.error).toBe('TargetSchemaMismatchError');
    expect(job?.failure?.cause).toContain(
      'r-orders exists with a different schema: it exists (empty) with keys pk (HASH), sk (RANGE)',
    );
    expect(job?.failure?.cause).toContain('the backup of orders has keys id (HASH)');
  });
});
