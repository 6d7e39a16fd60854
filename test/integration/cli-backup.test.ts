import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDemoTable, demoItem, loadItems, range } from '../../demo/workload';
import { cliRunner } from '../support/cli';
import { localClients, uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, store } = localClients(cfg);
const ORDERS = 120;
const BLOBS = 45;

const rewind = cliRunner(cfg);

const cluster = uniqueName('cli');
const orders = uniqueName('cli-orders');
const blobs = uniqueName('cli-blobs');

beforeAll(async () => {
  await Promise.all([createDemoTable(dynamodb, orders, 'orders'), createDemoTable(dynamodb, blobs, 'blobs')]);
  await loadItems(
    dynamodb,
    orders,
    [...range(ORDERS)].map((i) => demoItem('orders', i)),
  );
  await loadItems(
    dynamodb,
    blobs,
    [...range(BLOBS)].map((i) => demoItem('blobs', i)),
  );
});

afterAll(() => {
  dynamodb.destroy();
});

describe('rewind CLI on the local cloud', () => {
  it('refuses to register an unknown table, naming --tables and the table', async () => {
    // Act
    const result = await rewind(
      'cluster',
      'register',
      '--cluster',
      cluster,
      '--tables',
      `${orders},no-such-table`,
    );
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tables');
    expect(result.stderr).toContain('no-such-table');
    expect((await rewind('cluster', 'describe', cluster)).code).toBe(2);
  });

  it('registers a cluster over two tables, then lists and describes it', async () => {
    // Act
    const registered = await rewind(
      'cluster',
      'register',
      '--cluster',
      cluster,
      '--tables',
      `${orders},${blobs}`,
      '--retention-days',
      '14',
      '--schedule',
      '15 3 * * *',
      '--json',
    );
    const listed = await rewind('cluster', 'list', '--json');
    const described = await rewind('cluster', 'describe', cluster, '--json');
    // Assess
    expect(registered.code).toBe(0);
    expect(registered.json()).toMatchObject({
      cluster,
      tables: [orders, blobs],
      retentionDays: 14,
      schedule: '15 3 * * *',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    });
    expect((listed.json().clusters as { cluster: string }[]).map((c) => c.cluster)).toContain(cluster);
    expect(described.json()).toEqual(registered.json());
  });

  let backupId = '';
  let snapshotPrefix = '';

  it('backup start --wait --json ends COMPLETED with every item of both tables', async () => {
    // Act
    const result = await rewind(
      'backup',
      'start',
      '--cluster',
      cluster,
      '--name',
      'cli-test',
      '--wait',
      '--json',
    );
    // Assess
    expect(result.code, result.stderr).toBe(0);
    const backup = result.json();
    expect(backup).toMatchObject({ status: 'COMPLETED', kind: 'manual', name: 'cli-test', cluster });
    expect(backup.startTs).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(backup.endTs).toMatch(/\.\d{6}Z$/);
    expect(Date.parse(String(backup.endTs))).toBeGreaterThanOrEqual(Date.parse(String(backup.startTs)));
    const tables = backup.tables as { name: string; items: number; bytes: number }[];
    expect(Object.fromEntries(tables.map((t) => [t.name, t.items]))).toEqual({
      [orders]: ORDERS,
      [blobs]: BLOBS,
    });
    expect(tables.every((t) => t.bytes > 0)).toBe(true);
    expect(backup.storedBytes).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/COMPLETED, \d+ segments done/);
    backupId = String(backup.backupId);
    snapshotPrefix = String(backup.snapshotPrefix);
  });

  it('backup list and describe show the completed backup', async () => {
    // Act
    const listed = await rewind('backup', 'list', '--cluster', cluster, '--json');
    const described = await rewind('backup', 'describe', backupId, '--cluster', cluster, '--json');
    const human = await rewind('backup', 'list', '--cluster', cluster);
    // Assess
    expect(listed.json()).toMatchObject({ cluster, backups: [{ backupId, status: 'COMPLETED' }] });
    expect(described.json()).toMatchObject({ backupId, status: 'COMPLETED', items: ORDERS + BLOBS });
    expect(human.stdout).toContain(backupId);
    expect(human.stdout).toMatch(/^BACKUP ID/);
  });

  it('backup delete marks it DELETED and removes every object under its prefix', async () => {
    // Prepare
    const before: string[] = [];
    for await (const object of store.list(snapshotPrefix)) before.push(object.key);
    // Act
    const deleted = await rewind('backup', 'delete', backupId, '--cluster', cluster, '--json');
    // Assess
    expect(deleted.code).toBe(0);
    expect(deleted.json()).toMatchObject({ backupId, status: 'DELETED', deletedObjects: before.length });
    const after: string[] = [];
    for await (const object of store.list(snapshotPrefix)) after.push(object.key);
    expect(before.length).toBeGreaterThan(0);
    expect(after).toEqual([]);
    expect(
      (await rewind('backup', 'describe', backupId, '--cluster', cluster, '--json')).json(),
    ).toMatchObject({
      status: 'DELETED',
      deletedAt: expect.stringMatching(/\.\d{6}Z$/),
    });
    expect((await rewind('backup', 'list', '--cluster', cluster, '--json')).json().backups).toEqual([]);
    expect(
      (await rewind('backup', 'list', '--cluster', cluster, '--all', '--json')).json().backups,
    ).toHaveLength(1);
  });

  it('describe of an unknown backup exits 2 naming it', async () => {
    // Act
    const result = await rewind('backup', 'describe', 'no-such-backup', '--cluster', cluster);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-backup');
  });

  it('backup start on an unknown cluster exits 2 naming the cluster (the Lambda error type decides)', async () => {
    // Prepare
    const missing = uniqueName('missing');
    // Act
    const result = await rewind('backup', 'start', '--cluster', missing, '--json');
    // Assess
    expect(result.code).toBe(2);
    expect(result.json()).toEqual({
      error: { type: 'ClusterNotFoundError', message: expect.stringContaining(missing), exitCode: 2 },
    });
  });

  it('the installed entry (bin/rewind.js) exits 2 for an unknown cluster, one JSON document on stdout', async () => {
    // Prepare
    const missing = uniqueName('missing');
    const bin = resolve(import.meta.dirname, '../../bin/rewind.js');
    // Act
    const outcome = await promisify(execFile)(
      process.execPath,
      [bin, '--local', cfg.dir, 'backup', 'start', '--cluster', missing, '--json'],
      { timeout: 60_000 },
    ).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );
    // Assess
    expect(outcome.code).toBe(2);
    expect(JSON.parse(outcome.stdout).error.message).toContain(missing);
    expect(outcome.stderr).toContain(missing);
    expect(outcome.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
