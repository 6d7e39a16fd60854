import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { advanceCheckpointUntil } from '../../demo/checkpoint-wait';
import { compareItemSets, setsMatch, tableItems } from '../../demo/snapshot-check';
import { createDemoTable, demoItem, loadItems, range } from '../../demo/workload';
import { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { dynamoClient } from '../../local/clients';
import { type LocalCloud, resetLocalState, rewindCloudOptions, startLocalCloud } from '../../local/cloud';
import { cliRunner } from '../support/cli';

// The local cloud keeps its state in its folder: a stop and a start lose no cluster, backup,
// catalog entry or table, and an older backup restores exactly after the restart.
const dir = await mkdtemp(join(tmpdir(), 'rewind-durable-'));
let cloud: LocalCloud | undefined;
afterAll(async () => {
  await cloud?.stop();
  await rm(dir, { recursive: true, force: true });
});

const start = async () => {
  cloud = await startLocalCloud(await rewindCloudOptions(dir));
  return cloud;
};

describe('a durable local cloud', () => {
  it('keeps clusters, backups and tables across stop and start; an older backup restores exactly after it', async () => {
    // Prepare: a registered cluster, a backup, then changes after it, all on the first run.
    const first = await start();
    const rewind = cliRunner(first.config);
    const dynamodb = dynamoClient(first.config);
    const table = `durable-orders-${Date.now().toString(36)}`;
    await createDemoTable(dynamodb, table, 'orders');
    await loadItems(
      dynamodb,
      table,
      (function* () {
        for (const i of range(200)) yield demoItem('orders', i);
      })(),
    );
    expect((await rewind('cluster', 'register', '--cluster', 'durable', '--tables', table)).code).toBe(0);
    const backup = await rewind('backup', 'start', '--cluster', 'durable', '--wait', '--json');
    expect(backup.code, backup.stderr).toBe(0);
    const backupId = String(backup.json().backupId);
    const restorableFrom = Date.parse(String(backup.json().endTs)) * 1000 + 1_000_000;
    // Later writes must fall after the backup's restore point (endTs + the 1 s skew margin).
    while (Date.now() * 1000 <= restorableFrom + 200_000) await new Promise((r) => setTimeout(r, 100));
    const atBackup = await tableItems(dynamodb, table);
    await loadItems(
      dynamodb,
      table,
      (function* () {
        for (const i of range(50)) yield demoItem('orders', 1_000 + i);
      })(),
    );
    await advanceCheckpointUntil(first.config, 'durable', restorableFrom);
    dynamodb.destroy();

    // Act: stop, start again on the same folder.
    await first.stop();
    cloud = undefined;
    const second = await start();
    const again = cliRunner(second.config);
    const clusters = await again('cluster', 'list', '--json');
    const backups = await again('backup', 'list', '--cluster', 'durable', '--json');
    const restore = await again(
      'restore',
      'start',
      '--cluster',
      'durable',
      '--to',
      `backup:${backupId}`,
      '--target-prefix',
      'after-restart-',
      '--wait',
      '--json',
    );

    // Assess
    expect(JSON.stringify(clusters.json())).toContain('durable');
    expect(JSON.stringify(backups.json())).toContain(backupId);
    const client = dynamoClient(second.config);
    try {
      expect((await tableItems(client, table)).length).toBe(250);
      expect(restore.code, restore.stderr).toBe(0);
      const comparison = compareItemSets(atBackup, await tableItems(client, `after-restart-${table}`));
      expect(setsMatch(comparison), JSON.stringify(comparison)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('a backup a stop interrupted ends FAILED at the next start, and its cluster backs up again', async () => {
    // Prepare: what a crash mid-snapshot leaves: a RUNNING backup holding the cluster's lock.
    const before = cloud ?? (await start());
    const client = dynamoClient(before.config);
    const catalog = new DynamoCatalog(client, before.config.catalogTable);
    await catalog.lockCluster('durable', 'interrupted-1');
    await catalog.beginBackup({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: 'durable',
      backupId: 'interrupted-1',
      kind: 'manual',
      status: 'RUNNING',
      requestedAt: Date.now() * 1000,
      tables: [],
      items: 0,
      rawBytes: 0,
      storedBytes: 0,
    });
    client.destroy();
    await before.stop();
    cloud = undefined;
    // Act
    const after = await start();
    const next = await cliRunner(after.config)('backup', 'start', '--cluster', 'durable', '--wait', '--json');
    // Assess
    const check = dynamoClient(after.config);
    try {
      const interrupted = await new DynamoCatalog(check, after.config.catalogTable).getBackup(
        'durable',
        'interrupted-1',
      );
      expect(interrupted?.status).toBe('FAILED');
      expect(interrupted?.failure?.error).toBe('LocalCloudStopped');
      expect(next.code, next.stderr).toBe(0);
      expect(next.json()).toMatchObject({ status: 'COMPLETED' });
    } finally {
      check.destroy();
    }
  });

  it('local reset refuses while the cloud runs, and deletes its state once stopped', async () => {
    // Prepare
    const running = cloud ?? (await start());
    // Act
    const refused = await resetLocalState(dir).then(
      () => undefined,
      (error: Error) => error,
    );
    await running.stop();
    cloud = undefined;
    await resetLocalState(dir);
    // Assess
    expect(refused?.name).toBe('LocalCloudAlreadyRunningError');
    expect(existsSync(join(dir, 'dynamodb'))).toBe(false);
    expect(existsSync(join(dir, 's3'))).toBe(false);
  });
});
