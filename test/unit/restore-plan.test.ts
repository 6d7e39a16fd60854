import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import {
  BackupNotFoundError,
  InvalidInputError,
  RestoreCrossesGapError,
  RestorePointAfterCheckpointError,
  RestorePointTooEarlyError,
} from '../../functions/core/errors';
import {
  type Gap,
  parseRestoreTarget,
  planRestore,
  restorableWindow,
} from '../../functions/core/restore-plan';
import { formatIsoMicros, parseIsoMicros } from '../../functions/core/time';

const BASE = parseIsoMicros('2026-11-27T00:00:00Z');
const MARGIN = 1_000_000;

function backup(
  id: string,
  startOffset: number,
  duration: number,
  status: BackupRecord['status'] = 'COMPLETED',
): BackupRecord {
  const startTs = BASE + startOffset;
  const endTs = startTs + duration;
  return {
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: 'shop',
    backupId: id,
    kind: 'auto',
    status,
    requestedAt: startTs,
    startTs,
    endTs,
    restorableFrom: endTs + MARGIN,
    snapshotPrefix: `v1/shop/snapshots/${id}/`,
    manifestKey: `v1/shop/snapshots/${id}/manifest.json`,
    tables: [
      { name: 'orders', items: 1, rawBytes: 1, storedBytes: 1, chunks: 1 },
      { name: 'customers', items: 1, rawBytes: 1, storedBytes: 1, chunks: 1 },
    ],
    items: 2,
    rawBytes: 2,
    storedBytes: 2,
  };
}

const history = fc
  .array(
    fc.record({
      start: fc.integer({ min: 0, max: 10_000_000_000 }),
      duration: fc.integer({ min: 1, max: 600_000_000 }),
      status: fc.constantFrom<BackupRecord['status']>(
        'COMPLETED',
        'COMPLETED',
        'FAILED',
        'DELETED',
        'RUNNING',
      ),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((rows) => rows.map((r, i) => backup(`b${i}`, r.start, r.duration, r.status)));

const input = (backups: BackupRecord[], at: number, checkpoint: number | undefined, gaps: Gap[] = []) => ({
  clusterName: 'shop',
  clusterTables: ['orders', 'customers'],
  target: { kind: 'instant' as const, at },
  backups,
  checkpoint,
  gaps,
  marginMicros: MARGIN,
});

describe('restore planner', () => {
  it('for any instant in the window picks the newest snapshot that can restore it', () => {
    fc.assert(
      fc.property(
        history,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(10_000_000_000),
        (backups, f, extra) => {
          const window = restorableWindow(backups, BASE + 20_000_000_000 + extra);
          fc.pre(window.earliest !== undefined && window.latest !== undefined);
          const earliest = window.earliest ?? 0;
          const latest = window.latest ?? 0;
          const at = Math.floor(earliest + f * (latest - earliest));
          const plan = planRestore(input(backups, at, latest));
          const chosen = backups.find((b) => b.backupId === plan.snapshot.backupId);
          expect(chosen?.status).toBe('COMPLETED');
          expect(chosen?.restorableFrom).toBeLessThanOrEqual(at);
          for (const other of backups) {
            if (other.status === 'COMPLETED' && (other.restorableFrom ?? 0) <= at) {
              expect(other.restorableFrom).toBeLessThanOrEqual(chosen?.restorableFrom ?? 0);
            }
          }
          expect(plan.logFrom).toBe((chosen?.startTs ?? 0) - MARGIN);
          expect(plan.logTo).toBe(at);
          expect(plan.tables).toEqual(['orders', 'customers']);
        },
      ),
    );
  });

  it('refuses an instant after the checkpoint, naming the checkpoint and the window', () => {
    const backups = [backup('b1', 0, 1_000_000)];
    const checkpoint = BASE + 60_000_000;
    const plan = () => planRestore(input(backups, checkpoint + 1, checkpoint));
    expect(plan).toThrow(RestorePointAfterCheckpointError);
    expect(plan).toThrow(formatIsoMicros(checkpoint));
    expect(plan).toThrow(formatIsoMicros(BASE + 2_000_000));
  });

  it('refuses an instant before the earliest restorable one, naming it', () => {
    fc.assert(
      fc.property(history, (backups) => {
        const { earliest } = restorableWindow(backups, undefined);
        fc.pre(earliest !== undefined);
        const plan = () => planRestore(input(backups, (earliest ?? 0) - 1, (earliest ?? 0) + 10));
        expect(plan).toThrow(RestorePointTooEarlyError);
        expect(plan).toThrow(formatIsoMicros(earliest ?? 0));
      }),
    );
  });

  it('refuses a replay that crosses a gap, naming the gap; a gap of another table does not matter', () => {
    const backups = [backup('b1', 0, 1_000_000)];
    const gap: Gap = { gapId: 'g-1', table: 'orders', fromTs: BASE + 30_000_000, toTs: BASE + 31_000_000 };
    const at = BASE + 40_000_000;
    expect(() => planRestore(input(backups, at, at, [gap]))).toThrow(RestoreCrossesGapError);
    expect(() => planRestore(input(backups, at, at, [gap]))).toThrow(/g-1/);
    expect(planRestore({ ...input(backups, at, at, [gap]), tables: ['customers'] }).tables).toEqual([
      'customers',
    ]);
    expect(planRestore(input(backups, gap.fromTs - 1, at, [gap])).restorePoint).toBe(gap.fromTs - 1);
    // A gap before the snapshot's log window does not matter either.
    const old: Gap = { gapId: 'g-0', fromTs: BASE - 10_000_000, toTs: BASE - 5_000_000 };
    expect(planRestore(input(backups, at, at, [old])).snapshot.backupId).toBe('b1');
  });

  it('resolves latest and backup:ID, and rejects unknown tables and backups', () => {
    const backups = [backup('b1', 0, 1_000_000), backup('b2', 5_000_000, 1_000_000, 'FAILED')];
    const checkpoint = BASE + 90_000_000;
    const base = input(backups, 0, checkpoint);
    expect(planRestore({ ...base, target: { kind: 'latest' } }).restorePoint).toBe(checkpoint);
    expect(planRestore({ ...base, target: { kind: 'backup', backupId: 'b1' } }).restorePoint).toBe(
      BASE + 2_000_000,
    );
    expect(() => planRestore({ ...base, target: { kind: 'backup', backupId: 'nope' } })).toThrow(
      BackupNotFoundError,
    );
    expect(() => planRestore({ ...base, target: { kind: 'backup', backupId: 'b2' } })).toThrow(
      /not restorable/,
    );
    expect(() => planRestore({ ...base, target: { kind: 'latest' }, tables: ['ghost'] })).toThrow(
      InvalidInputError,
    );
    expect(() => planRestore({ ...base, target: { kind: 'latest' }, checkpoint: undefined })).toThrow(
      RestorePointAfterCheckpointError,
    );
  });

  it('parses --to forms', () => {
    expect(parseRestoreTarget('latest', parseIsoMicros)).toEqual({ kind: 'latest' });
    expect(parseRestoreTarget('backup:abc', parseIsoMicros)).toEqual({ kind: 'backup', backupId: 'abc' });
    expect(parseRestoreTarget('2026-11-27T00:00:00.5Z', parseIsoMicros)).toEqual({
      kind: 'instant',
      at: BASE + 500_000,
    });
    expect(() => parseRestoreTarget('backup:', parseIsoMicros)).toThrow(/to/);
    expect(() => parseRestoreTarget('soon', (t) => parseIsoMicros(t, 'to'))).toThrow(/to/);
  });
});
