import { describe, expect, it } from 'vitest';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { InvalidInputError } from '../../functions/core/errors';
import { LOG_SCHEMA_VERSION } from '../../functions/core/log-model';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { driveExecution, type FakeTable, RestoreWorld } from '../support/restore-fakes';

/** start-restore's refusals (docs/design.md §3.4, §3.5, §3.8) and what it registers, on in-memory fakes. */
const START = 1_800_000_000_000_000;
const MARGIN = 1_000;
const orders: FakeTable = {
  name: 'orders',
  keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
};

async function world(checkpoint: Micros | null = START + 60_000) {
  const w = new RestoreWorld('shop');
  await w.register([orders]);
  await w.snapshot('b1', { startTs: START, endTs: START + 10_000, marginMicros: MARGIN }, [
    { table: orders, items: [{ id: { S: 'a' } }] },
  ]);
  if (checkpoint !== null) await w.checkpoint(checkpoint);
  return w;
}

const start = (w: RestoreWorld, event: unknown) =>
  w.registry({ targetRecordsPerPartition: 10 })['start-restore'](event, MARGIN);
const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error('expected a refusal');
  return error;
};

describe('start-restore', () => {
  it('plans, reserves the targets, registers the job RUNNING and starts execution <restoreId>', async () => {
    // Prepare
    const w = await world();
    // Act
    const started = await start(w, { cluster: 'shop', to: 'backup:b1', targetPrefix: 'r-' });
    // Assess
    expect(started).toMatchObject({
      status: 'RUNNING',
      restorePoint: formatIsoMicros(START + 10_000 + MARGIN),
      backupId: 'b1',
      tables: [{ source: 'orders', target: 'r-orders' }],
    });
    expect(w.started).toEqual([
      { name: started.restoreId, input: { cluster: 'shop', restoreId: started.restoreId } },
    ]);
    const job = await w.restoreCatalog.getRestore('shop', started.restoreId);
    expect(job).toMatchObject({ status: 'RUNNING', attempt: 1, plan: { logFrom: START - MARGIN } });
    expect(job?.executionArn).toContain(started.restoreId);
  });

  it.each([
    [{ to: 'latest', targetPrefix: 'r-' }, 'cluster'],
    [{ cluster: 'shop', targetPrefix: 'r-' }, 'to'],
    [{ cluster: 'shop', to: 'latest' }, 'targetPrefix'],
    [{ cluster: 'shop', to: 'latest', targetPrefix: 'bad prefix!' }, 'targetPrefix'],
    [{ cluster: 'shop', to: 'latest', targetPrefix: 'r-', tables: [] }, 'tables'],
    [{ cluster: 'shop', to: 'yesterday', targetPrefix: 'r-' }, 'to'],
    [{ cluster: 'shop', to: 'latest', targetPrefix: 'r-', tables: ['nope'] }, 'tables'],
    [{ cluster: 'shop', to: 'latest', targetPrefix: 'r-', extra: 1 }, 'start-restore event'],
  ])('refuses %j naming the field %s', async (event, field) => {
    // Prepare
    const w = await world();
    // Act
    const error = await refusal(start(w, event));
    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe(field);
    expect(w.started).toEqual([]);
  });

  it('refuses a restore point after the checkpoint, naming the checkpoint and the window', async () => {
    const w = await world(START + 60_000);
    const error = await attempt(w, formatIsoMicros(START + 60_001));
    expect(error.name).toBe('RestorePointAfterCheckpointError');
    expect(error.message).toContain(formatIsoMicros(START + 60_000));
    expect(error.message).toContain(
      `${formatIsoMicros(START + 10_000 + MARGIN)} .. ${formatIsoMicros(START + 60_000)}`,
    );
  });

  it('refuses a restore point before the earliest restorable instant, naming it', async () => {
    const w = await world();
    const error = await attempt(w, formatIsoMicros(START + 10_000));
    expect(error.name).toBe('RestorePointTooEarlyError');
    expect(error.message).toContain(formatIsoMicros(START + 10_000 + MARGIN));
  });

  it('refuses a restore point whose replay crosses a gap, naming the gap', async () => {
    const w = await world();
    await w.logCatalog.recordGap({
      schemaVersion: LOG_SCHEMA_VERSION,
      gapId: 'shardId-1:5-9',
      cluster: 'shop',
      table: 'orders',
      shardId: 'shardId-1',
      startSequenceNumber: '5',
      endSequenceNumber: '9',
      fromTs: START + 20_000,
      toTs: START + 21_000,
      records: 2,
      reason: 'poison',
      recordedAt: START + 30_000,
    });
    expect((await attempt(w, formatIsoMicros(START + 19_000))).name).toBeUndefined();
    const error = await attempt(w, formatIsoMicros(START + 25_000));
    expect(error.name).toBe('RestoreCrossesGapError');
    expect(error.message).toContain('shardId-1:5-9');
  });

  it('refuses `latest` before log backup has a checkpoint', async () => {
    const w = await world(null);
    const error = await refusal(start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' }));
    expect(error.name).toBe('RestorePointAfterCheckpointError');
    expect(error.message).toContain('(none yet)');
  });

  it('refuses an existing non-empty target table, and never a source table (of any cluster)', async () => {
    // Prepare
    const w = await world();
    w.tables.seed('full-orders', orders.keySchema, [{ id: { S: 'x' } }]);
    w.tables.seed('empty-orders', orders.keySchema, []);
    await w.catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: 'other',
      tables: ['x-orders'],
      retentionDays: 7,
      createdAt: '2026-11-27T00:00:00.000000Z',
    });
    // Act
    const nonEmpty = await refusal(start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'full-' }));
    const source = await refusal(start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'x-' }));
    const empty = await start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'empty-' });
    // Assess
    expect(nonEmpty.name).toBe('TargetTableNotEmptyError');
    expect(nonEmpty.message).toContain('full-orders');
    expect(source.name).toBe('TargetIsSourceError');
    expect(source.message).toContain('cluster other');
    expect(empty.tables).toEqual([{ source: 'orders', target: 'empty-orders' }]);
    expect(w.tables.canonicalItems('full-orders')).toHaveLength(1);
  });

  it('refuses a target a RUNNING restore holds; a FAILED holder gives way', async () => {
    // Prepare
    const w = await world();
    const first = await start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' });
    // Act
    const busy = await refusal(start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' }));
    await w.restoreCatalog.failRestore('shop', first.restoreId, { error: 'E', cause: 'c' }, START + 70_000);
    const second = await start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' });
    // Assess
    expect(busy.name).toBe('TargetTableInUseError');
    expect(busy.message).toContain(first.restoreId);
    expect(second.restoreId).not.toBe(first.restoreId);
  });

  it('a completed restore leaves its targets non-empty: the same prefix is then refused', async () => {
    // Prepare
    const w = await world();
    const registry = w.registry({ targetRecordsPerPartition: 10 });
    const first = await start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' });
    await driveExecution(registry, { cluster: 'shop', restoreId: first.restoreId });
    // Act
    const again = await refusal(start(w, { cluster: 'shop', to: 'latest', targetPrefix: 'r-' }));
    // Assess
    expect((await w.restoreCatalog.getRestore('shop', first.restoreId))?.status).toBe('COMPLETED');
    expect(again.name).toBe('TargetTableNotEmptyError');
  });
});

/** start-restore to instant `to` with prefix r-; the refusal, or an object without name if it started. */
async function attempt(w: RestoreWorld, to: string): Promise<{ name?: string; message: string }> {
  try {
    await start(w, { cluster: 'shop', to, targetPrefix: `r${Math.random().toString(36).slice(2, 8)}-` });
    return { message: 'started' };
  } catch (error) {
    return error as Error;
  }
}
