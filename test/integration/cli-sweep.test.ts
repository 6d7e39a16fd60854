import { afterAll, describe, expect, inject, it } from 'vitest';
import { cliRunner } from '../support/cli';
import { demoCluster, localClients } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, catalog, store } = localClients(cfg);

const rewind = cliRunner(cfg);

afterAll(() => {
  dynamodb.destroy();
});

describe('rewind schedule run and rewind sweep on the local cloud', () => {
  it('far in the future, sweep plans the older auto backup away, --confirm deletes it, the newest stays', async () => {
    // Arrange: two automatic backups, as the schedule takes them.
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 20 }]);
    const first = await rewind('schedule', 'run', '--cluster', cluster, '--json');
    const second = await rewind('schedule', 'run', '--cluster', cluster, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(first.json()).toMatchObject({ status: 'COMPLETED', kind: 'auto', cluster });
    const older = String(first.json().backupId);
    const newest = String(second.json().backupId);
    const future = '2099-01-01T00:00:00Z';
    // Act
    const plan = await rewind('sweep', '--cluster', cluster, '--now', future, '--json');
    const afterPlan = (await catalog.getBackup(cluster, older))?.status;
    const swept = await rewind('sweep', '--cluster', cluster, '--now', future, '--confirm', '--json');
    const again = await rewind('sweep', '--cluster', cluster, '--now', future, '--confirm', '--json');
    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    const planned = plan.json() as {
      keep: { backupId?: string }[];
      delete: { backupId?: string }[];
      reasons: Record<string, string>;
    };
    expect(planned.delete.map((d) => d.backupId)).toEqual([older]);
    expect(planned.keep.map((d) => d.backupId)).toContain(newest);
    expect(planned.reasons[newest]).toBe('newest completed snapshot');
    expect(afterPlan).toBe('COMPLETED');
    expect(swept.code, swept.stderr).toBe(0);
    expect((swept.json().deleted as { backups: string[] }).backups).toEqual([older]);
    const olderRecord = await catalog.getBackup(cluster, older);
    expect(olderRecord?.status).toBe('DELETED');
    const left: string[] = [];
    for await (const o of store.list(olderRecord?.snapshotPrefix ?? 'none/')) left.push(o.key);
    expect(left).toEqual([]);
    expect((await catalog.getBackup(cluster, newest))?.status).toBe('COMPLETED');
    expect(again.json()).toMatchObject({ delete: [], deleted: { backups: [], logObjects: [] } });
  });
});
