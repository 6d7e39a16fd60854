import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeLocalConfig } from '../../local/clients';
import { type LocalFunctionRegistry, localFunction } from '../../local/sfn-runner';
import { cliRunner } from '../support/cli';
import { demoCluster, localClients, privateControlPlane, startAndWait } from '../support/cloud';

// The CLI does no destructive work in its own process: `backup delete` and `sweep` invoke the
// deployed functions (locally: through the control plane), which run with the stack's settings.
const cfg = inject('localConfig');
const { catalog, dynamodb } = localClients(cfg);
const invoked: { name: string; event: unknown }[] = [];
const recording = (registry: LocalFunctionRegistry): LocalFunctionRegistry => {
  const record = (name: string) => {
    const inner = registry[name];
    if (!inner) throw new Error(`no ${name} in the registry`);
    return localFunction(async (event, context) => {
      invoked.push({ name, event });
      return inner.handler(event, context);
    }, inner.timeoutMs);
  };
  return {
    ...registry,
    'delete-backup': record('delete-backup'),
    'sweep-retention': record('sweep-retention'),
  };
};

let plane: Awaited<ReturnType<typeof privateControlPlane>>;
let dir: string;
let rewind: ReturnType<typeof cliRunner>;
beforeAll(async () => {
  plane = await privateControlPlane(cfg, {}, recording);
  dir = await mkdtemp(join(tmpdir(), 'rewind-cli-invoke-'));
  const own = { ...plane.config, dir };
  await writeLocalConfig(own);
  rewind = cliRunner(own);
});
afterAll(async () => {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
  dynamodb.destroy();
});

describe('the CLI invokes the deployed functions for destructive work', () => {
  it('backup delete invokes delete-backup with the cluster and backup id, and prints its result', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 20 }]);
    const backup = await startAndWait(plane.lambda, catalog, cluster);
    invoked.length = 0;
    // Act
    const result = await rewind('backup', 'delete', backup.backupId, '--cluster', cluster, '--json');
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(invoked).toEqual([{ name: 'delete-backup', event: { cluster, backupId: backup.backupId } }]);
    expect(result.json()).toMatchObject({ backupId: backup.backupId, status: 'DELETED' });
    expect((await catalog.getBackup(cluster, backup.backupId))?.status).toBe('DELETED');
  });

  it('sweep (plan and --confirm) invokes sweep-retention with the flags as its event', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 5 }]);
    await startAndWait(plane.lambda, catalog, cluster);
    invoked.length = 0;
    // Act
    const plan = await rewind('sweep', '--cluster', cluster, '--json');
    const confirmed = await rewind('sweep', '--cluster', cluster, '--confirm', '--json');
    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(invoked).toEqual([
      { name: 'sweep-retention', event: { cluster, confirm: false } },
      { name: 'sweep-retention', event: { cluster, confirm: true } },
    ]);
    expect(plan.json()).toMatchObject({ cluster, deleted: { backups: [], logObjects: [] } });
  });

  it('a refusal by the function keeps its error type and exits 2', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 5 }]);
    // Act
    const result = await rewind('backup', 'delete', 'no-such-backup', '--cluster', cluster, '--json');
    // Assess
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { type: 'BackupNotFoundError' } });
  });
});
