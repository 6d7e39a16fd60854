import { Cron } from 'croner';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { CATALOG_SCHEMA_VERSION, type ClusterRecord } from '../../functions/core/catalog-model';
import { localCron, longestGapHours, nextRun } from '../../functions/core/cron-pattern';
import { startLocalSchedules } from '../../local/schedules';
import { bareRegistry } from '../../local/sfn-runner';

/** The next `count` fire times (ISO, UTC) of a croner pattern after `from`, in `timeZone`. */
function nextRuns(pattern: string, timeZone: string, from: Date, count = 6): string[] {
  const cron = new Cron(pattern, { timezone: timeZone, paused: true });
  return cron.nextRuns(count, from).map((d) => d.toISOString());
}

/** Fire times of a schedule as the local scheduler runs it (year field included). */
function localRuns(schedule: string, timeZone: string, from: Date, count = 6): string[] {
  const { pattern, yearMatches } = localCron(schedule);
  for (let candidates = count; ; candidates *= 8) {
    const runs = nextRuns(pattern, timeZone, from, candidates).filter((iso) =>
      yearMatches(new Date(iso).getUTCFullYear()),
    );
    if (runs.length >= count || candidates > 10_000) return runs.slice(0, count);
  }
}

describe('local cron: fires when EventBridge Scheduler would', () => {
  const zones = ['Etc/UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'];
  const field = (min: number, max: number) =>
    fc.oneof(
      fc.constant('*'),
      fc.integer({ min, max }).map(String),
      fc
        .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
        .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((n) => `*/${n}`),
      fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')),
    );
  const dayOfWeek = fc.oneof(
    fc.constant('*'),
    fc.integer({ min: 0, max: 7 }).map(String),
    fc.constantFrom('1-5', 'MON-FRI', 'SAT,SUN', '0,3', '5-7', 'TUE'),
  );
  // crontab semantics: at most one of day-of-month / day-of-week restricted (EventBridge needs `?`).
  const crontab = fc
    .tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), dayOfWeek, fc.boolean())
    .map(([m, h, dom, mon, dow, restrictDom]) =>
      [m, h, restrictDom ? dom : '*', mon, restrictDom ? '*' : dow].join(' '),
    );

  it('a 5-field crontab fires at the same instants as croner reading it directly (every zone)', () => {
    fc.assert(
      fc.property(
        crontab,
        fc.constantFrom(...zones),
        fc.date({
          min: new Date('2026-01-01T00:00:00Z'),
          max: new Date('2030-12-31T00:00:00Z'),
          noInvalidDate: true,
        }),
        (schedule, zone, from) => {
          // Prepare / Act
          const translated = localRuns(schedule, zone, from);
          // Assess
          expect(translated).toEqual(nextRuns(schedule, zone, from));
        },
      ),
      { numRuns: 120 },
    );
  }, 60_000);

  it.each([
    // EventBridge day numbers start at 1 = Sunday: 6#3 is the third Friday.
    ['cron(0 3 ? * 6#3 *)', 'Etc/UTC', ['2026-12-18T03:00:00.000Z', '2027-01-15T03:00:00.000Z']],
    // 6L = the last Friday of the month.
    ['cron(15 10 ? * 6L *)', 'Etc/UTC', ['2026-12-25T10:15:00.000Z', '2027-01-29T10:15:00.000Z']],
    ['cron(0 3 L * ? *)', 'Etc/UTC', ['2026-11-30T03:00:00.000Z', '2026-12-31T03:00:00.000Z']],
    ['cron(0/20 9 * * ? *)', 'Etc/UTC', ['2026-11-28T09:00:00.000Z', '2026-11-28T09:20:00.000Z']],
    ['cron(0 12 ? * 2-6 *)', 'Etc/UTC', ['2026-11-30T12:00:00.000Z', '2026-12-01T12:00:00.000Z']],
    // The year field: nothing fires before 2028.
    ['cron(0 0 1 1 ? 2028-2029)', 'Etc/UTC', ['2028-01-01T00:00:00.000Z', '2029-01-01T00:00:00.000Z']],
    // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC once summer time starts (2027-03-28).
    ['0 3 * * *', 'Europe/Paris', ['2026-11-28T02:00:00.000Z', '2026-11-29T02:00:00.000Z']],
  ])('%s in %s fires at %j', (schedule, zone, expected) => {
    // Act
    const runs = localRuns(schedule, zone, new Date('2026-11-27T12:00:00Z'), expected.length);
    // Assess
    expect(runs).toEqual(expected);
  });

  it('follows summer time in the schedule time zone', () => {
    // Act
    const runs = localRuns('0 3 * * *', 'Europe/Paris', new Date('2027-03-26T12:00:00Z'), 3);
    // Assess
    expect(runs).toEqual([
      '2027-03-27T02:00:00.000Z',
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T01:00:00.000Z',
    ]);
  });

  it.each([
    ['cron(0 3 15W * ? *)', 'W'],
    ['0 3 1 * MON', 'day-of-month'],
    ['cron(0 3 ? * MON 20x6)', 'year'],
  ])('refuses %s, saying why (%s)', (schedule, why) => {
    expect(() => localCron(schedule)).toThrow(why);
  });
});

describe('startLocalSchedules (the EventBridge stand-in of rewind local start)', () => {
  const cluster = (name: string, schedule?: string, timeZone?: string): ClusterRecord => ({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: name,
    tables: ['t'],
    retentionDays: 7,
    createdAt: '2026-11-01T00:00:00Z',
    ...(schedule ? { schedule, timeZone } : {}),
  });
  let calls: { name: string; event: unknown }[];
  const registry = () =>
    bareRegistry(
      Object.fromEntries(
        ['start-backup', 'sweep-retention', 'advance-checkpoint'].map((name) => [
          name,
          async (event: unknown) => {
            calls.push({ name, event });
            return {};
          },
        ]),
      ),
    );

  beforeEach(() => {
    calls = [];
    vi.useFakeTimers({ now: new Date('2026-11-27T02:59:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts each cluster backup at its scheduled minute in its zone, with scheduledAt; sweeps daily; skips removed clusters; advances the checkpoint', async () => {
    // Prepare: 03:00 UTC, 12:00 Tokyo (= 03:00 UTC), and 04:00 UTC
    const catalog = new MemoryCatalog();
    await catalog.putCluster(cluster('utc', '0 3 * * *'));
    await catalog.putCluster(cluster('tokyo', 'cron(0 12 * * ? *)', 'Asia/Tokyo'));
    await catalog.putCluster(cluster('later', '0 4 * * *'));
    await catalog.putCluster(cluster('manual-only'));
    await catalog.putCluster({ ...cluster('removed', '0 3 * * *'), status: 'REMOVED' });
    const schedules = startLocalSchedules(catalog, registry(), { log: () => undefined });
    await schedules.ready;
    // Act
    await vi.advanceTimersByTimeAsync(90_000);
    await schedules.stop();
    // Assess
    const starts = calls.filter((c) => c.name === 'start-backup').map((c) => c.event);
    expect(starts).toEqual(
      expect.arrayContaining([
        { cluster: 'utc', kind: 'auto', scheduledAt: '2026-11-27T03:00:00.000000Z' },
        { cluster: 'tokyo', kind: 'auto', scheduledAt: '2026-11-27T03:00:00.000000Z' },
      ]),
    );
    expect(starts).toHaveLength(2);
    const sweeps = calls.filter((c) => c.name === 'sweep-retention').map((c) => c.event);
    expect(sweeps).toHaveLength(4);
    // A cluster removed from the stack loses its schedules, as on AWS.
    expect([...starts, ...sweeps]).not.toContainEqual(expect.objectContaining({ cluster: 'removed' }));
    expect(sweeps).toContainEqual({ cluster: 'manual-only', confirm: true });
    expect(calls.filter((c) => c.name === 'advance-checkpoint').length).toBeGreaterThanOrEqual(85);
  });

  it('picks up a changed schedule and drops a removed one at the next discovery', async () => {
    // Prepare
    const catalog = new MemoryCatalog();
    await catalog.putCluster(cluster('c', '0 3 * * *'));
    const schedules = startLocalSchedules(catalog, registry(), { log: () => undefined, discoveryMs: 5_000 });
    await schedules.ready;
    const before = schedules.scheduled();
    // Act
    await catalog.putCluster(cluster('c', '30 3 * * *'));
    await vi.advanceTimersByTimeAsync(6_000);
    const changed = schedules.scheduled();
    await catalog.putCluster(cluster('c'));
    await vi.advanceTimersByTimeAsync(5_000);
    const removed = schedules.scheduled();
    await vi.advanceTimersByTimeAsync(3_600_000);
    await schedules.stop();
    // Assess
    expect(before.map((j) => j.nextRun?.toISOString())).toEqual(['2026-11-27T03:00:00.000Z']);
    expect(changed.map((j) => j.nextRun?.toISOString())).toEqual(['2026-11-27T03:30:00.000Z']);
    expect(removed).toEqual([]);
    expect(calls.filter((c) => c.name === 'start-backup')).toEqual([]);
  });
});

describe('longestGapHours (how long the "backup missing" alarm waits)', () => {
  const from = new Date('2026-11-27T12:00:00Z');
  it.each([
    ['0 3 * * *', 'Etc/UTC', 24],
    // The night summer time ends, 03:00 Paris comes 25 h after the previous one.
    ['0 3 * * *', 'Europe/Paris', 25],
    ['15 3 * * MON-FRI', 'Etc/UTC', 72],
    ['cron(0 */6 * * ? *)', 'Etc/UTC', 6],
    ['0 3 * * SUN', 'America/New_York', 169],
  ])('%s in %s: %d h', (schedule, zone, hours) => {
    // Act / Assess
    expect(longestGapHours(schedule, zone, from)).toBe(hours);
  });

  it('a schedule that never fires again has no finite gap', () => {
    expect(longestGapHours('cron(0 3 1 1 ? 2020)', 'Etc/UTC', from)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('nextRun (rewind status)', () => {
  it('is the next fire time in the zone, skipping years the EventBridge year field excludes', () => {
    const after = Date.UTC(2026, 10, 27, 12) * 1000;
    expect(nextRun('0 3 * * *', 'Europe/Paris', after)).toBe(Date.UTC(2026, 10, 28, 2) * 1000);
    expect(nextRun('cron(0 0 1 1 ? 2028)', 'Etc/UTC', after)).toBe(Date.UTC(2028, 0, 1) * 1000);
    expect(nextRun('cron(0 0 1 1 ? 2020)', 'Etc/UTC', after)).toBeUndefined();
  });
});
