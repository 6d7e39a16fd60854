import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nowMicros } from '../../functions/adapters/clock';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import type { Micros } from '../../functions/core/time';
import { invokeSpec } from '../../functions/spec';
import { sweepRetentionSpec } from '../../functions/sweep-retention/spec';
import { writeLocalConfig } from '../../local/clients';
import { localClients as functionClients, localEnvironment, localTelemetry } from '../../local/functions';
import { localFunction } from '../../local/sfn-runner';
import { cliRunner } from '../support/cli';
import { demoCluster, localClients, privateControlPlane } from '../support/cloud';
import { shipPlaceholderLogObject } from '../support/log-fixtures';

const cfg = inject('localConfig');
const { dynamodb, catalog, store } = localClients(cfg);
const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);

const rewind = cliRunner(cfg);
const HOUR = 3_600_000_000;
const DAY = 24 * HOUR;

/**
 * A control plane whose sweep-retention runs 30 days from now (its clock moved on, as if the
 * sweep ran a month later): the sweep refuses a future `--now`, so the passing of time is
 * what the function's clock says.
 */
let later: Awaited<ReturnType<typeof privateControlPlane>>;
let laterDir: string;
let sweepLater: ReturnType<typeof cliRunner>;
beforeAll(async () => {
  const movedOn = {
    ...sweepRetentionSpec,
    deps: (
      env: Parameters<typeof sweepRetentionSpec.deps>[0],
      runtime: Parameters<typeof sweepRetentionSpec.deps>[1],
    ) => ({
      ...sweepRetentionSpec.deps(env, runtime),
      now: () => nowMicros() + 30 * DAY,
    }),
  };
  const env = localEnvironment(sweepRetentionSpec, cfg);
  const clients = functionClients(cfg);
  later = await privateControlPlane(cfg, {}, (registry) => ({
    ...registry,
    'sweep-retention': localFunction(
      (event, context) =>
        invokeSpec(
          movedOn,
          event,
          env,
          { clients, remainingMs: () => context.getRemainingTimeInMillis() },
          localTelemetry(),
        ),
      900_000,
    ),
  }));
  laterDir = await mkdtemp(join(tmpdir(), 'rewind-sweep-later-'));
  const own = { ...later.config, dir: laterDir };
  await writeLocalConfig(own);
  sweepLater = cliRunner(own);
});
afterAll(async () => {
  await later.stop();
  await rm(laterDir, { recursive: true, force: true });
});

const shipLogObject = (cluster: string, table: string, ts: Micros, sequence: string) =>
  shipPlaceholderLogObject({ store, logCatalog }, { cluster, table, ts, sequence });

afterAll(() => {
  dynamodb.destroy();
});

describe('rewind schedule run and rewind sweep on the local cloud', () => {
  it('refuses --now in the future, naming the flag, and deletes nothing', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 5 }]);
    const backup = await rewind('schedule', 'run', '--cluster', cluster, '--json');
    // Act
    const refused = await rewind(
      'sweep',
      '--cluster',
      cluster,
      '--now',
      '2100-01-01T00:00:00Z',
      '--confirm',
      '--json',
    );
    // Assess
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { type: 'UsageError', field: '--now' } });
    expect(refused.stderr + refused.stdout).toContain('invalid --now');
    expect((await catalog.getBackup(cluster, String(backup.json().backupId)))?.status).toBe('COMPLETED');
  });

  it('a month on, sweep plans the older auto backup and the log before the newest away; --confirm deletes them, index entries included', async () => {
    // Prepare: two automatic backups, as the schedule takes them.
    const { cluster, tableNames } = await demoCluster(cfg, [{ kind: 'orders', items: 20 }]);
    const table = tableNames[0] ?? '';
    const first = await rewind('schedule', 'run', '--cluster', cluster, '--json');
    const second = await rewind('schedule', 'run', '--cluster', cluster, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(first.json()).toMatchObject({ status: 'COMPLETED', kind: 'auto', cluster });
    const older = String(first.json().backupId);
    const newest = String(second.json().backupId);
    // 30 log objects from before the older backup (more than one BatchWriteItem of index
    // deletes), one from the newest backup's scan on (the log the window needs).
    const olderStart = (await catalog.getBackup(cluster, older))?.startTs ?? 0;
    const newestStart = (await catalog.getBackup(cluster, newest))?.startTs ?? 0;
    const oldLogs: string[] = [];
    for (let i = 0; i < 30; i++)
      oldLogs.push(await shipLogObject(cluster, table, olderStart - 2 * HOUR - i * HOUR, String(100 + i)));
    oldLogs.sort();
    const keptLog = await shipLogObject(cluster, table, newestStart + 1_000, '900');
    // Act
    const plan = await sweepLater('sweep', '--cluster', cluster, '--json');
    const afterPlan = (await catalog.getBackup(cluster, older))?.status;
    const indexedAfterPlan = await logCatalog.listLogObjects(cluster, table, 0, Number.MAX_SAFE_INTEGER);
    const swept = await sweepLater('sweep', '--cluster', cluster, '--confirm', '--json');
    const again = await sweepLater('sweep', '--cluster', cluster, '--confirm', '--json');
    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    const planned = plan.json() as {
      keep: { type: string; backupId?: string; key?: string }[];
      delete: { type: string; backupId?: string; key?: string }[];
      reasons: Record<string, string>;
    };
    const ofType = (ds: typeof planned.keep, type: string) =>
      ds.filter((d) => d.type === type).map((d) => d.backupId ?? d.key);
    expect(ofType(planned.delete, 'backup')).toEqual([older]);
    expect(ofType(planned.delete, 'log').sort()).toEqual(oldLogs);
    expect(ofType(planned.keep, 'log')).toEqual([keptLog]);
    expect(planned.keep.map((d) => d.backupId)).toContain(newest);
    expect(indexedAfterPlan).toHaveLength(31);
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
    expect([...(swept.json().deleted as { logObjects: string[] }).logObjects].sort()).toEqual(oldLogs);
    const indexed = await logCatalog.listLogObjects(cluster, table, 0, Number.MAX_SAFE_INTEGER);
    expect(indexed.map((o) => o.key)).toEqual([keptLog]);
    for (const key of [oldLogs[0], oldLogs[29]]) {
      expect(await logCatalog.getLogObject(cluster, key ?? '')).toBeUndefined();
      expect(await store.exists(key ?? '')).toBe(false);
    }
    const logsLeft: string[] = [];
    for await (const o of store.list(`v1/${cluster}/logs/`)) logsLeft.push(o.key);
    expect(logsLeft).toEqual([keptLog]);
    expect(again.json()).toMatchObject({ delete: [], deleted: { backups: [], logObjects: [] } });
  });
});
