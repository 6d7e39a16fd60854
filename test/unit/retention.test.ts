import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { planRestore } from '../../functions/core/restore-plan';
import {
  type LogObjectSummary,
  planRetention,
  protectedWindow,
  type RetentionInput,
} from '../../functions/core/retention';

const DAY = 86_400_000_000;
const NOW = 1_800_000_000_000_000;
const MARGIN = 1_000_000;

const backupArb = fc.record({
  age: fc.integer({ min: 0, max: 30 * DAY }),
  duration: fc.integer({ min: 1, max: 3_600_000_000 }),
  kind: fc.constantFrom<'auto' | 'manual'>('auto', 'auto', 'auto', 'manual'),
  status: fc.constantFrom<BackupRecord['status']>(
    'COMPLETED',
    'COMPLETED',
    'COMPLETED',
    'FAILED',
    'DELETED',
    'RUNNING',
  ),
});

const scenario = fc
  .record({
    backups: fc.array(backupArb, { minLength: 1, maxLength: 10 }),
    logs: fc.array(
      fc.record({
        age: fc.integer({ min: 0, max: 31 * DAY }),
        span: fc.integer({ min: 0, max: 3_600_000_000 }),
      }),
      {
        maxLength: 30,
      },
    ),
    retentionDays: fc.integer({ min: 1, max: 14 }),
    checkpointLag: fc.integer({ min: 0, max: 600_000_000 }),
  })
  .map(
    ({ backups, logs, retentionDays, checkpointLag }): RetentionInput => ({
      now: NOW,
      retentionDays,
      checkpoint: NOW - checkpointLag,
      marginMicros: MARGIN,
      failedGraceMicros: 2 * DAY,
      backups: backups.map((b, i) => {
        const startTs = NOW - b.age - b.duration;
        const endTs = startTs + b.duration;
        return {
          schemaVersion: CATALOG_SCHEMA_VERSION,
          clusterName: 'shop',
          backupId: `b${i}`,
          kind: b.kind,
          status: b.status,
          requestedAt: startTs,
          startTs,
          endTs: b.status === 'COMPLETED' ? endTs : undefined,
          restorableFrom: b.status === 'COMPLETED' ? endTs + MARGIN : undefined,
          snapshotPrefix: `p/${i}/`,
          manifestKey: b.status === 'COMPLETED' ? `p/${i}/manifest.json` : undefined,
          tables: [{ name: 'orders', items: 1, rawBytes: 1, storedBytes: 1, chunks: 1 }],
          items: 1,
          rawBytes: 1,
          storedBytes: 1,
        };
      }),
      logObjects: logs.map(
        (l, i): LogObjectSummary => ({
          key: `log/${i}`,
          table: 'orders',
          minTs: NOW - l.age,
          maxTs: NOW - l.age + l.span,
        }),
      ),
    }),
  );

function apply(input: RetentionInput) {
  const plan = planRetention(input);
  const deletedBackups = new Set(plan.delete.flatMap((d) => (d.type === 'backup' ? [d.backupId] : [])));
  const deletedLogs = new Set(plan.delete.flatMap((d) => (d.type === 'log' ? [d.key] : [])));
  const after: RetentionInput = {
    ...input,
    backups: input.backups.filter((b) => !deletedBackups.has(b.backupId) && b.status !== 'DELETED'),
    logObjects: input.logObjects.filter((l) => !deletedLogs.has(l.key)),
  };
  return { plan, after };
}

const plannerInput = (backups: BackupRecord[], at: number, checkpoint: number | undefined) => ({
  clusterName: 'shop',
  clusterTables: ['orders'],
  target: { kind: 'instant' as const, at },
  backups,
  checkpoint,
  gaps: [],
  marginMicros: MARGIN,
});

describe('retention policy', () => {
  it('after the sweep every instant of [now − retention, checkpoint] is still restorable, with its log', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (input, fractions) => {
          const window = protectedWindow(input);
          fc.pre(window !== undefined);
          const { after } = apply(input);
          for (const f of [0, ...fractions]) {
            // 0: the window start itself, the instant only the anchor snapshot can restore.
            const at = Math.floor((window?.from ?? 0) + f * ((window?.to ?? 0) - (window?.from ?? 0)));
            const plan = planRestore(plannerInput(after.backups, at, input.checkpoint));
            // Every log object the restore reads that existed before the sweep still exists.
            const needed = input.logObjects.filter((l) => l.maxTs >= plan.logFrom && l.minTs <= plan.logTo);
            const kept = new Set(after.logObjects.map((l) => l.key));
            for (const object of needed) expect(kept.has(object.key), object.key).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the newest completed snapshot and every manual backup; no other old automatic backup', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { plan, after } = apply(input);
        const survivors = new Set(after.backups.map((b) => b.backupId));
        const completed = input.backups.filter((b) => b.status === 'COMPLETED');
        const newest = [...completed].sort((a, b) => (b.restorableFrom ?? 0) - (a.restorableFrom ?? 0))[0];
        if (newest) expect(survivors.has(newest.backupId)).toBe(true);
        for (const b of completed.filter((b) => b.kind === 'manual'))
          expect(survivors.has(b.backupId)).toBe(true);
        const oldAuto = after.backups.filter(
          (b) =>
            b.status === 'COMPLETED' &&
            b.kind === 'auto' &&
            (b.restorableFrom ?? 0) <= plan.windowStart &&
            b !== newest,
        );
        expect(oldAuto.length).toBeLessThanOrEqual(1); // only the anchor of the window start
        for (const b of input.backups.filter((b) => b.status === 'FAILED' && b.requestedAt < NOW - 2 * DAY)) {
          expect(survivors.has(b.backupId)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a second sweep deletes nothing, and every decision carries a reason', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { plan, after } = apply(input);
        for (const d of [...plan.keep, ...plan.delete]) expect(d.reason.length).toBeGreaterThan(0);
        expect(planRetention(after).delete).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every log object while there is no completed snapshot', () => {
    const input: RetentionInput = {
      now: NOW,
      retentionDays: 1,
      checkpoint: NOW,
      marginMicros: MARGIN,
      failedGraceMicros: DAY,
      backups: [],
      logObjects: [{ key: 'old', table: 'orders', minTs: NOW - 90 * DAY, maxTs: NOW - 90 * DAY }],
    };
    expect(planRetention(input).delete).toEqual([]);
  });
});
