import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalItem, type Item, itemToJson } from '../../functions/core/dynamo-json';
import type { ChangeRecord } from '../../functions/core/log-format';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { localStateMachines } from '../../local/functions';
import { bareRegistry, LocalStateMachineRunner, loadDefinition } from '../../local/sfn-runner';
import { attributeValue } from '../support/items';
import { driveExecution, type FakeTable, RestoreWorld } from '../support/restore-fakes';

/**
 * The restore, end to end on in-memory fakes (object store, catalogs, target tables): the real
 * run() functions of start-restore, create-tables, load, plan-replay, replay and verify, over
 * snapshots and log objects laid out exactly as the backup pipeline writes them.
 *
 * Model: random puts/updates/deletes over a few keys of 1-3 tables at increasing instants. The
 * snapshot is fuzzy, like a Scan under concurrent writes: each key is captured as it was at its
 * own instant somewhere in [startTs − margin, endTs + margin]. The log holds every change,
 * with duplicates, shuffled, cut into objects of random sizes and field orders. For any restore
 * point T ≥ restorableFrom (= endTs + margin) and ≤ the checkpoint, every restored table must
 * equal the oracle — the tables replayed in instant order up to T — item by item.
 */
const B: Micros = 1_800_000_000_000_000;
const MARGIN = 5;
const TABLE_SHAPES: Omit<FakeTable, 'name'>[] = [
  {
    keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  },
  {
    keySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    attributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
    ],
    ttlAttribute: 'expires',
  },
];
const KEYS = 5;

function keyOf(shape: number, k: number): Item {
  return shape === 0 ? { id: { S: `k${k}` } } : { pk: { S: `p${k % 2}` }, sk: { N: String(k) } };
}

const scenario = fc
  .record({
    shapes: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 3 }),
    ops: fc.array(
      fc.record({
        table: fc.nat(2),
        key: fc.nat(KEYS - 1),
        del: fc.boolean(),
        value: attributeValue,
        gap: fc.integer({ min: 1, max: 40 }),
      }),
      { maxLength: 40 },
    ),
    snap: fc.tuple(fc.nat(900), fc.nat(300)),
    keyTimes: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 15, maxLength: 15 }),
    to: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('latest', 'backup')),
    subset: fc.option(fc.array(fc.boolean(), { minLength: 3, maxLength: 3 })),
    duplicates: fc.array(fc.nat(200), { maxLength: 10 }),
    cuts: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
    canonical: fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
    perPartition: fc.integer({ min: 1, max: 12 }),
    seed: fc.integer(),
  })
  .map((s) => ({ ...s, ops: s.ops.map((o) => ({ ...o, table: o.table % s.shapes.length })) }));
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  world: RestoreWorld;
  tables: FakeTable[];
  restorePoint: Micros;
  to: string;
  restored: FakeTable[];
  /** Oracle: canonical items per source table at the restore point. */
  expected: Map<string, string[]>;
}

/** Deterministic shuffle from a seed (xorshift), for log order and Map item order. */
function shuffler(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return <T>(items: T[]): T[] => {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  };
}

async function build(s: Scenario, describesWhileCreating = 0): Promise<Built> {
  const world = new RestoreWorld('shop', { describesWhileCreating });
  const tables = s.shapes.map((shape, i) => ({ name: `tbl${i}`, ...TABLE_SHAPES[shape] }) as FakeTable);
  await world.register(tables);

  // The history: each op at its own instant; a change record for every effective change.
  const history: { table: number; id: string; ts: Micros; item?: Item }[] = [];
  const records: ChangeRecord[] = [];
  const live = new Map<string, Item>();
  let ts = B;
  for (const [n, op] of s.ops.entries()) {
    ts += op.gap;
    const shape = s.shapes[op.table] ?? 0;
    const key = keyOf(shape, op.key);
    const id = `${op.table}/${canonicalItem(key)}`;
    const existed = live.has(id);
    const item: Item | undefined = op.del
      ? undefined
      : { ...key, v: op.value, ...(shape === 1 ? { expires: { N: String(2_000_000_000 + n) } } : {}) };
    if (op.del && !existed) continue; // DynamoDB streams no record for deleting a missing item
    history.push({ table: op.table, id, ts, item });
    if (item) live.set(id, item);
    else live.delete(id);
    records.push({
      table: `tbl${op.table}`,
      op: item ? (existed ? 'MODIFY' : 'INSERT') : 'REMOVE',
      keys: itemToJson(key),
      newImage: item ? itemToJson(item) : undefined,
      ts,
      eventId: `e${n}`,
      shardId: 's',
      sequenceNumber: String(n),
    });
  }
  const stateAt = (table: number, at: Micros) => {
    const state = new Map<string, Item>();
    for (const h of history) {
      if (h.table !== table || h.ts > at) continue;
      if (h.item) state.set(h.id, h.item);
      else state.delete(h.id);
    }
    return state;
  };

  // The fuzzy snapshot: key by key, the state at its own instant in [start − m, end + m].
  const startTs = B + s.snap[0];
  const endTs = startTs + s.snap[1];
  const ids = [...new Set(history.map((h) => `${h.table}\u0000${h.id}`))];
  const content = tables.map((table, t) => {
    const items: Item[] = [];
    ids
      .filter((id) => id.startsWith(`${t}\u0000`))
      .forEach((full, i) => {
        const frac = s.keyTimes[i % s.keyTimes.length] ?? 0;
        const at = Math.round(startTs - MARGIN + frac * (endTs - startTs + 2 * MARGIN));
        const item = stateAt(t, at).get(full.slice(full.indexOf('\u0000') + 1));
        if (item) items.push(item);
      });
    return { table, items };
  });
  await world.snapshot('b1', { startTs, endTs, marginMicros: MARGIN }, content);

  // The log: every record, some twice, shuffled, cut into objects per table.
  const shuffle = shuffler(s.seed);
  const withDuplicates = [...records];
  for (const d of s.duplicates) {
    const record = records[d % Math.max(1, records.length)];
    if (record) withDuplicates.push({ ...record });
  }
  let cut = 0;
  for (const [t, table] of tables.entries()) {
    const mine = shuffle(withDuplicates.filter((r) => r.table === table.name));
    for (let i = 0; i < mine.length; ) {
      const size = s.cuts[cut % s.cuts.length] ?? 1;
      await world.logObject(mine.slice(i, i + size), s.canonical[(cut + t) % s.canonical.length] ?? true);
      i += size;
      cut++;
    }
  }
  const checkpoint = Math.max(ts, endTs + MARGIN) + 50;
  await world.checkpoint(checkpoint);

  const restorableFrom = endTs + MARGIN;
  const restorePoint =
    s.to === 'latest'
      ? checkpoint
      : s.to === 'backup'
        ? restorableFrom
        : Math.round(restorableFrom + s.to * (checkpoint - restorableFrom));
  const to = s.to === 'latest' ? 'latest' : s.to === 'backup' ? 'backup:b1' : formatIsoMicros(restorePoint);
  const restored = s.subset?.some((x, i) => x && i < tables.length)
    ? tables.filter((_, i) => s.subset?.[i])
    : tables;
  const expected = new Map(
    tables.map((table, t) => [table.name, [...stateAt(t, restorePoint).values()].map(canonicalItem).sort()]),
  );
  return { world, tables, restorePoint, to, restored, expected };
}

async function assertRestored(b: Built, restoreId: string): Promise<void> {
  const job = await b.world.restoreCatalog.getRestore('shop', restoreId);
  expect(job?.failure).toBeUndefined();
  expect(job?.status).toBe('COMPLETED');
  expect(job?.restorePoint).toBe(b.restorePoint);
  for (const table of b.restored) {
    const target = `r-${table.name}`;
    expect(b.world.tables.canonicalItems(target), `table ${table.name}`).toEqual(b.expected.get(table.name));
    expect(job?.result?.tables.find((t) => t.source === table.name)?.items).toBe(
      b.expected.get(table.name)?.length,
    );
    if (table.ttlAttribute) expect(b.world.tables.ttlOf(target)).toBe(table.ttlAttribute);
  }
  expect(Object.values(job?.phases ?? {}).map((p) => p.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
}

const startEvent = (b: Built) => ({
  cluster: 'shop',
  to: b.to,
  targetPrefix: 'r-',
  ...(b.restored.length < b.tables.length ? { tables: b.restored.map((t) => t.name) } : {}),
});

describe('restore equals the oracle at T (property, in-memory fakes)', () => {
  it('real run() functions in state machine order, Map items in random order: 100 runs', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Prepare
        const b = await build(s);
        const registry = b.world.registry({ targetRecordsPerPartition: s.perPartition, maxPartitions: 4 });
        // Act
        const started = await registry['start-restore'](startEvent(b), MARGIN);
        await driveExecution(
          registry,
          { cluster: 'shop', restoreId: started.restoreId },
          shuffler(s.seed + 1),
        );
        // Assess
        expect(started.restorePoint).toBe(formatIsoMicros(b.restorePoint));
        await assertRestored(b, started.restoreId);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('the same, executed by restore.asl.json in the local state machine runner: 10 runs', async () => {
    const machine = localStateMachines().find((m) => m.name === 'rewind-restore');
    if (!machine) throw new Error('no restore state machine');
    const { text, definition } = await loadDefinition(machine);
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Prepare: tables stay CREATING for two describes, so the Wait loop runs.
        const b = await build(s, 2);
        const registry = b.world.registry({ targetRecordsPerPartition: s.perPartition, maxPartitions: 4 });
        const runner = new LocalStateMachineRunner(text, definition, bareRegistry(registry as never), {
          waitMs: 0,
          retryIntervalMs: 0,
        });
        let outcome: Promise<unknown> = Promise.resolve();
        b.world.executions = {
          start: async (name, input) => {
            outcome = runner.run(input, { Execution: { Id: name, Name: name } }).outcome;
            return name;
          },
          status: async () => 'RUNNING',
        };
        // Act
        const started = await registry['start-restore'](startEvent(b), MARGIN);
        const result = (await outcome) as { status: string };
        // Assess
        expect(result.status).toBe('SUCCEEDED');
        await assertRestored(b, started.restoreId);
      }),
      { numRuns: 10 },
    );
  }, 60_000);
});
