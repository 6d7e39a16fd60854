import { afterAll, describe, expect, inject, it } from 'vitest';
import { cliRunner } from '../support/cli';
import { demoCluster, localClients } from '../support/cloud';
import { scheduledRun } from '../support/scheduled';

const cfg = inject('localConfig');
const { dynamodb, catalog } = localClients(cfg);
const rewind = cliRunner(cfg);

afterAll(() => {
  dynamodb.destroy();
});

describe('rewind schedule run --now (catching up a scheduled run)', () => {
  it('takes the run planned for that instant once; repeating the command returns the same backup', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 30 }]);
    const [planned, later] = [scheduledRun(4), scheduledRun(3)];
    // Act
    const first = await rewind('schedule', 'run', '--cluster', cluster, '--now', planned.iso, '--json');
    const repeat = await rewind('schedule', 'run', '--cluster', cluster, '--now', planned.iso, '--json');
    const next = await rewind('schedule', 'run', '--cluster', cluster, '--now', later.iso, '--json');
    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ cluster, kind: 'auto', status: 'COMPLETED', items: 30 });
    expect(repeat.code, repeat.stderr).toBe(0);
    expect(repeat.json().backupId).toBe(first.json().backupId);
    expect(next.json().backupId).not.toBe(first.json().backupId);
    const backups = await catalog.listBackups(cluster);
    expect(backups.map((b) => b.scheduledAt).sort()).toEqual([planned.micros, later.micros]);
  });

  it('refuses a --now that is not an ISO-8601 UTC instant, naming the flag, and starts nothing', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 5 }]);
    // Act
    const result = await rewind('schedule', 'run', '--cluster', cluster, '--now', 'tonight');
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--now');
    expect(await catalog.listBackups(cluster)).toEqual([]);
  });
});
