import { describe, expect, it } from 'vitest';
import { backupDetails, backupView, clusterView, humanBytes, isoText } from '../../cli/format';
import { memoryIo } from '../../cli/io';
import { backupProgress } from '../../cli/progress';
import * as parse from '../../cli/validate';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import type { BackupRecord } from '../../functions/core/catalog-model';

const completed: BackupRecord = {
  schemaVersion: 1,
  clusterName: 'shop',
  backupId: '20261127T041500-3f9a2c',
  kind: 'manual',
  name: 'before-migration',
  status: 'COMPLETED',
  requestedAt: 1_795_752_900_000_001,
  startTs: 1_795_752_900_123_456,
  endTs: 1_795_752_901_000_000,
  restorableFrom: 1_795_752_902_000_000,
  snapshotPrefix: 'v1/shop/snapshots/20261127T041500.123456Z-20261127T041500-3f9a2c/',
  manifestKey: 'v1/shop/snapshots/20261127T041500.123456Z-20261127T041500-3f9a2c/manifest.json',
  tables: [{ name: 'orders', items: 10, rawBytes: 2048, storedBytes: 300, chunks: 1 }],
  items: 10,
  rawBytes: 2048,
  storedBytes: 300,
};

describe('JSON views', () => {
  it('a backup has the CLI.md fields, instants as ISO with six fraction digits', () => {
    // Act
    const view = backupView(completed);
    // Assess
    expect(view).toMatchObject({
      backupId: completed.backupId,
      status: 'COMPLETED',
      kind: 'manual',
      startTs: '2026-11-27T04:15:00.123456Z',
      endTs: '2026-11-27T04:15:01.000000Z',
      restorableFrom: '2026-11-27T04:15:02.000000Z',
      tables: [{ name: 'orders', items: 10, bytes: 2048, storedBytes: 300, chunks: 1 }],
      storedBytes: 300,
    });
  });

  it('a running backup has null instants rather than missing keys', () => {
    // Prepare
    const running: BackupRecord = { ...completed, status: 'RUNNING', startTs: undefined, endTs: undefined };
    // Act
    const view = backupView(running);
    // Assess
    expect(view.startTs).toBeNull();
    expect(view.endTs).toBeNull();
    expect(Object.keys(view)).toEqual(Object.keys(backupView(completed)));
  });

  it('a cluster registered by CDK (millisecond ISO) prints with six fraction digits', async () => {
    // Prepare
    const catalog = new MemoryCatalog();
    await catalog.putCluster({
      schemaVersion: 1,
      clusterName: 'shop',
      tables: ['orders'],
      retentionDays: 7,
      createdAt: '2026-11-27T04:15:00.123Z',
    });
    const cluster = await catalog.getCluster('shop');
    // Act
    const view = cluster && clusterView(cluster);
    // Assess
    expect(view).toEqual({
      cluster: 'shop',
      tables: ['orders'],
      retentionDays: 7,
      schedule: null,
      timeZone: null,
      createdAt: '2026-11-27T04:15:00.123000Z',
      runningBackupId: null,
      status: 'PROTECTED',
    });
    expect(isoText('not a date')).toBe('not a date');
  });

  it('human output shows sizes and the failure', () => {
    // Act
    const text = backupDetails(
      backupView({ ...completed, status: 'FAILED', failure: { error: 'States.Timeout', cause: 'slow' } }),
    );
    // Assess
    expect(text).toContain('States.Timeout: slow');
    expect(humanBytes(2048)).toBe('2.0 KiB');
    expect(humanBytes(12)).toBe('12 B');
  });
});

describe('option parsers', () => {
  it('instant accepts ISO UTC with up to six fraction digits and rejects the rest', () => {
    // Act / Assess
    expect(parse.instant('2026-11-27T04:15:00.123456Z')).toBe(1_795_752_900_123_456);
    expect(parse.instant('2026-11-27T04:15:00Z')).toBe(1_795_752_900_000_000);
    expect(() => parse.instant('2026-11-27 04:15')).toThrow(/ISO-8601/);
    expect(() => parse.instant('2026-02-30T00:00:00Z')).toThrow(/calendar/);
  });

  it('cron accepts 5 or 6 fields and cron(...)', () => {
    // Act / Assess
    expect(parse.cron('15 3 * * *')).toBe('15 3 * * *');
    expect(parse.cron('cron(15 3 ? * MON-FRI *)')).toBe('15 3 ? * MON-FRI *');
    expect(() => parse.cron('15 3 * *')).toThrow(/5 fields/);
    expect(() => parse.cron('rate(1 day)')).toThrow(/cron/);
  });

  it('tables, names and numbers', () => {
    // Act / Assess
    expect(parse.tableList('orders, lines')).toEqual(['orders', 'lines']);
    expect(() => parse.tableList('orders,')).toThrow(/table names/);
    expect(parse.positiveInt('14')).toBe(14);
    expect(() => parse.positiveInt('0')).toThrow(/positive/);
    expect(() => parse.name('a/b')).toThrow(/A-Za-z0-9/);
  });
});

describe('backup progress without a TTY', () => {
  it('writes a plain line when something changes, not on every poll', () => {
    // Prepare
    const capture = memoryIo();
    const progress = backupProgress(capture.io.stderr, 'b1', 10_000);
    // Act
    progress.update({ status: 'RUNNING', segmentsDone: 0, elapsedMs: 0 });
    progress.update({ status: 'RUNNING', segmentsDone: 0, elapsedMs: 1_000 });
    progress.update({ status: 'RUNNING', segmentsDone: 3, elapsedMs: 2_000 });
    progress.update({ status: 'COMPLETED', segmentsDone: 4, elapsedMs: 3_000 });
    progress.stop();
    // Assess
    expect(capture.stderr().trim().split('\n')).toEqual([
      'backup b1: RUNNING, 0 segments done, 0s',
      'backup b1: RUNNING, 3 segments done, 2s',
      'backup b1: COMPLETED, 4 segments done, 3s',
    ]);
  });
});
