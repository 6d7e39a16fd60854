import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { advanceCheckpointUntil } from '../../demo/checkpoint-wait';
import { createDemoTable, demoItem, loadItems, range } from '../../demo/workload';
import { parseIsoMicros } from '../../functions/core/time';
import { cliRunner } from '../support/cli';
import { localClients, uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, lambda, catalog } = localClients(cfg);

const rewind = cliRunner(cfg);

/** What EventBridge does every minute on AWS: run advance-checkpoint until it passes `target`. */
const advanceUntil = (cluster: string, target: number) =>
  advanceCheckpointUntil(cfg, cluster, target, 90_000);

const cluster = uniqueName('status');
const orders = uniqueName('status-orders');

beforeAll(async () => {
  await createDemoTable(dynamodb, orders, 'orders');
});

afterAll(() => {
  dynamodb.destroy();
  lambda.destroy();
});

describe('rewind status on the local cloud', () => {
  it('exits 2 for an unknown cluster, naming it', async () => {
    // Act
    const result = await rewind('status', '--cluster', 'no-such-cluster', '--json');
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-cluster');
  });

  it('shows the checkpoint past the last write, a PITR window and no gaps', {
    timeout: 180_000,
  }, async () => {
    // Arrange: register (enables change capture), write, back up, write more, advance.
    expect((await rewind('cluster', 'register', '--cluster', cluster, '--tables', orders)).code).toBe(0);
    await loadItems(
      dynamodb,
      orders,
      [...range(40)].map((i) => demoItem('orders', i)),
    );
    const backup = await rewind('backup', 'start', '--cluster', cluster, '--wait', '--json');
    expect(backup.code).toBe(0);
    await loadItems(
      dynamodb,
      orders,
      [...range(20, 40)].map((i) => demoItem('orders', i)),
    );
    const lastWrite = Date.now() * 1000;
    // The window opens at the backup's restorableFrom (endTs + skew margin), which may be later.
    const restorableFrom =
      (await catalog.getBackup(cluster, String(backup.json().backupId)))?.restorableFrom ?? lastWrite;
    await advanceUntil(cluster, Math.max(lastWrite, restorableFrom));

    // Act
    const result = await rewind('status', '--cluster', cluster, '--json');

    // Assess
    expect(result.code).toBe(0);
    const doc = result.json() as {
      checkpoint: string;
      rpoSeconds: number;
      pitrWindow: { earliest: string | null; latest: string | null };
      lastBackup: { backupId: string; status: string; endTs: string | null };
      gaps: unknown[];
      shards: { shardId: string; shippedTs: string; closed: boolean }[];
      holds: number;
      backupAgeSeconds: number;
      schedule: unknown;
    };
    expect(parseIsoMicros(doc.checkpoint)).toBeGreaterThanOrEqual(lastWrite);
    expect(doc.rpoSeconds).toBeGreaterThanOrEqual(0);
    expect(doc.pitrWindow.earliest).not.toBeNull();
    expect(doc.pitrWindow.latest).toBe(doc.checkpoint);
    expect(parseIsoMicros(doc.pitrWindow.earliest ?? '')).toBeLessThanOrEqual(parseIsoMicros(doc.checkpoint));
    expect(doc.lastBackup).toEqual({
      backupId: backup.json().backupId,
      status: 'COMPLETED',
      endTs: backup.json().endTs,
    });
    expect(doc.gaps).toEqual([]);
    expect(doc.shards.length).toBeGreaterThan(0);
    expect(doc.holds).toBe(0);
    // The backup just completed; the cluster has no schedule.
    const sinceBackupEnd = (Date.now() * 1000 - parseIsoMicros(String(backup.json().endTs))) / 1e6;
    expect(doc.backupAgeSeconds).toBeGreaterThan(0);
    expect(doc.backupAgeSeconds).toBeLessThanOrEqual(sinceBackupEnd);
    expect(doc.schedule).toBeNull();

    const human = await rewind('status', '--cluster', cluster);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(doc.checkpoint);
  });
});

describe('rewind status of a scheduled cluster', () => {
  it('shows the schedule, its next run in the cluster time zone, and the age since registration', async () => {
    // Prepare
    const scheduled = uniqueName('sched');
    const table = uniqueName('sched-orders');
    await createDemoTable(dynamodb, table, 'orders');
    const registered = await rewind(
      'cluster',
      'register',
      '--cluster',
      scheduled,
      '--tables',
      table,
      '--schedule',
      '15 3 * * *',
      '--time-zone',
      'Europe/Paris',
    );
    expect(registered.code, registered.stderr).toBe(0);
    // Act
    const result = await rewind('status', '--cluster', scheduled, '--json');
    // Assess
    expect(result.code, result.stderr).toBe(0);
    const doc = result.json() as {
      backupAgeSeconds: number;
      lastBackup: unknown;
      schedule: { cron: string; timeZone: string; nextRun: string };
    };
    expect(doc.lastBackup).toBeNull();
    expect(doc.backupAgeSeconds).toBeLessThan(60);
    expect(doc.schedule).toMatchObject({ cron: '15 3 * * *', timeZone: 'Europe/Paris' });
    const next = parseIsoMicros(doc.schedule.nextRun) / 1000;
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(25 * 3_600_000);
    const paris = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      hour: '2-digit',
      minute: '2-digit',
    }).format(new Date(next));
    expect(paris).toBe('03:15');
  });
});
