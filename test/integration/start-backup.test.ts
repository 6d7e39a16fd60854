import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { sfnClient } from '../../local/clients';
import { demoCluster, invoke, localClients, uniqueName, waitForBackup } from '../support/cloud';
import { scheduledRun } from '../support/scheduled';

const cfg = inject('localConfig');
const { lambda, catalog } = localClients(cfg);

/** Executions named like `executionArn` on its state machine. */
async function executionsLike(executionArn: string) {
  const sfn = sfnClient(cfg);
  const [, , , region, account, , machine, name] = executionArn.split(':');
  const stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:${machine}`;
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    for (const e of page.executions ?? []) if (e.name === name) arns.push(e.executionArn ?? '');
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

describe('start-backup console event', () => {
  it('refuses an unknown cluster, naming it, and registers nothing', async () => {
    // Prepare
    const cluster = uniqueName('missing');
    // Act
    const result = await invoke(lambda, 'start-backup', { cluster });
    // Assess
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'ClusterNotFoundError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(cluster);
    expect(await catalog.listBackups(cluster)).toEqual([]);
  });

  it('refuses a cluster removed from the stack, saying so, and registers nothing', async () => {
    // Prepare: what ProtectedCluster's delete handler leaves in the catalog
    const cluster = uniqueName('removed');
    await catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      tables: ['orders'],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
      status: 'REMOVED',
    });
    // Act
    const result = await invoke(lambda, 'start-backup', {
      cluster,
      kind: 'auto',
      scheduledAt: scheduledRun(1).iso,
    });
    // Assess
    expect(result.payload).toMatchObject({ errorType: 'ClusterRemovedError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(`"${cluster}" was removed`);
    expect(await catalog.listBackups(cluster)).toEqual([]);
  });

  it.each([
    [{}, 'cluster'],
    [{ cluster: 42 }, 'cluster'],
    [{ cluster: '' }, 'cluster'],
    [{ cluster: 'c', kind: 'hourly' }, 'kind'],
    [{ cluster: 'c', name: '' }, 'name'],
    [{ cluster: 'c', clsuter: 'typo' }, 'clsuter'],
    [{ cluster: 'c', kind: 'manual', scheduledAt: '2026-11-27T03:00:00Z' }, 'scheduledAt'],
    [{ cluster: 'c', kind: 'auto', scheduledAt: 'tomorrow at 3' }, 'scheduledAt'],
    [{ cluster: 'a/b' }, 'cluster'],
    [{ cluster: 'x'.repeat(1_000_000) }, 'cluster'],
  ])('rejects malformed event %j naming the field %s', async (event, field) => {
    // Act
    const result = await invoke(lambda, 'start-backup', event);
    // Assess
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'InvalidInputError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(field);
  });
});

describe('start-backup from the schedule (scheduledAt)', () => {
  it.each([['1970-01-01T00:00:00Z'], ['2100-01-01T00:00:00Z']])(
    'refuses a scheduled run at %s (outside the retention window or ahead of the clock), naming scheduledAt',
    async (at) => {
      // Prepare
      const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 5 }]);
      // Act
      const result = await invoke(lambda, 'start-backup', { cluster, kind: 'auto', scheduledAt: at });
      // Assess
      expect(result.payload).toMatchObject({ errorType: 'InvalidInputError' });
      expect((result.payload as { errorMessage: string }).errorMessage).toContain('invalid scheduledAt');
      expect(await catalog.listBackups(cluster)).toEqual([]);
    },
  );

  it('starts one backup per scheduled run however often the run is delivered', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 50 }]);
    const run = scheduledRun(4);
    const event = { cluster, kind: 'auto', scheduledAt: run.iso };
    // Act: two concurrent deliveries, then a late third once the backup finished
    const [first, second] = await Promise.all([
      invoke(lambda, 'start-backup', event),
      invoke(lambda, 'start-backup', event),
    ]);
    const backupId = (first.payload as BackupRecord).backupId;
    const done = await waitForBackup(catalog, cluster, backupId);
    const late = await invoke(lambda, 'start-backup', event);
    // Assess
    expect(first.functionError).toBeUndefined();
    expect(second.functionError).toBeUndefined();
    expect(backupId).toMatch(new RegExp(`^${run.key}-auto-[0-9a-f]{8}$`));
    expect((second.payload as BackupRecord).backupId).toBe(backupId);
    expect(late.payload).toMatchObject({ backupId, status: 'COMPLETED' });
    expect(done).toMatchObject({
      status: 'COMPLETED',
      kind: 'auto',
      scheduledAt: run.micros,
    });
    expect(await catalog.listBackups(cluster)).toHaveLength(1);
    expect(await executionsLike((first.payload as BackupRecord).executionArn ?? '')).toHaveLength(1);
  });

  it('gives each scheduled run its own backup, and clusters scheduled alike their own', async () => {
    // Prepare
    const a = await demoCluster(cfg, [{ kind: 'orders', items: 20 }]);
    const b = await demoCluster(cfg, [{ kind: 'orders', items: 20 }]);
    const [older, newer] = [scheduledRun(2), scheduledRun(1)];
    const runs = [
      [a.cluster, older.iso],
      [a.cluster, newer.iso],
      [b.cluster, older.iso],
    ] as const;
    // Act
    const done: BackupRecord[] = [];
    for (const [cluster, scheduledAt] of runs) {
      const started = await invoke(lambda, 'start-backup', { cluster, kind: 'auto', scheduledAt });
      done.push(await waitForBackup(catalog, cluster, (started.payload as BackupRecord).backupId));
    }
    // Assess
    expect(done.map((backup) => backup.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(new Set(done.map((backup) => backup.backupId)).size).toBe(3);
    expect(done[0]?.backupId).toMatch(new RegExp(`^${older.key}-auto-`));
    expect(done[1]?.backupId).toMatch(new RegExp(`^${newer.key}-auto-`));
    expect(await catalog.listBackups(a.cluster)).toHaveLength(2);
  });

  it('takes a scheduled run again when its first attempt FAILED', async () => {
    // Prepare: a cluster whose table does not exist, so every snapshot fails
    const cluster = uniqueName('broken');
    await catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: cluster,
      tables: [uniqueName('no-such-table')],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    const event = { cluster, kind: 'auto', scheduledAt: scheduledRun(2).iso };
    const first = await invoke(lambda, 'start-backup', event);
    const failed = await waitForBackup(catalog, cluster, (first.payload as BackupRecord).backupId);
    // Act
    const again = await invoke(lambda, 'start-backup', event);
    const retried = await waitForBackup(catalog, cluster, (again.payload as BackupRecord).backupId);
    // Assess
    expect(failed.status).toBe('FAILED');
    expect(retried.backupId).not.toBe(failed.backupId);
    expect(retried.scheduledAt).toBe(failed.scheduledAt);
    expect(await catalog.listBackups(cluster)).toHaveLength(2);
  });
});
