import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BackupRecord } from '../../functions/core/catalog-model';
import { sfnClient } from '../../local/clients';
import { type LocalFunctionRegistry, localFunction } from '../../local/sfn-runner';
import { demoCluster, invoke, localClients, privateControlPlane, waitForBackup } from '../support/cloud';

// docs/design.md §3.10: an execution that ends without its Catch (here: StopExecution, what a
// timeout, an abort or States.DataLimitExceeded look like) still ends in the catalog, and its
// cluster is not blocked.
const cfg = inject('localConfig');
const { catalog, dynamodb } = localClients(cfg);
afterAll(() => dynamodb.destroy());

/** scan-segment that never finishes by itself: the execution stays RUNNING until stopped. */
const stuckScan =
  (keepExecutionEnded: boolean) =>
  (registry: LocalFunctionRegistry): LocalFunctionRegistry => {
    const { 'execution-ended': ended, ...rest } = registry;
    return {
      ...rest,
      ...(keepExecutionEnded && ended ? { 'execution-ended': ended } : {}),
      'scan-segment': localFunction(
        (_event, context) =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, 60_000);
            (context as { signal?: AbortSignal }).signal?.addEventListener('abort', () =>
              clearTimeout(timer),
            );
          }),
        120_000,
      ),
    };
  };

async function startStuckBackup(plane: Awaited<ReturnType<typeof privateControlPlane>>, cluster: string) {
  const started = await invoke(plane.lambda, 'start-backup', { cluster });
  expect(started.functionError, JSON.stringify(started.payload)).toBeUndefined();
  const backup = started.payload as BackupRecord & { executionArn: string };
  // Wait until the execution is inside the stuck scan.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return backup;
}

describe('a lost execution does not block its cluster', () => {
  it('a stopped snapshot execution marks its backup FAILED (execution-ended) and the next backup starts', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 10 }]);
    const plane = await privateControlPlane(cfg, {}, stuckScan(true));
    const sfn = sfnClient(plane.config);
    try {
      const backup = await startStuckBackup(plane, cluster);
      // Act
      await sfn.send(new StopExecutionCommand({ executionArn: backup.executionArn }));
      const failed = await waitForBackup(catalog, cluster, backup.backupId);
      const next = await invoke(plane.lambda, 'start-backup', { cluster });
      // Assess
      expect(failed.status).toBe('FAILED');
      expect(failed.failure?.cause).toContain('ended ABORTED without its Catch');
      expect(next.functionError, JSON.stringify(next.payload)).toBeUndefined();
      expect((next.payload as BackupRecord).status).toBe('RUNNING');
    } finally {
      sfn.destroy();
      await plane.stop();
    }
  });

  it('without the event, the next start finds the holder execution ended, marks it FAILED and takes the lock', async () => {
    // Prepare: no execution-ended function, so only the lock check can notice.
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 10 }]);
    const plane = await privateControlPlane(cfg, {}, stuckScan(false));
    const sfn = sfnClient(plane.config);
    try {
      const backup = await startStuckBackup(plane, cluster);
      await sfn.send(new StopExecutionCommand({ executionArn: backup.executionArn }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stillRunning = (await catalog.getBackup(cluster, backup.backupId))?.status;
      // Act
      const next = await invoke(plane.lambda, 'start-backup', { cluster });
      // Assess
      expect(stillRunning).toBe('RUNNING');
      expect(next.functionError, JSON.stringify(next.payload)).toBeUndefined();
      const holder = await catalog.getBackup(cluster, backup.backupId);
      expect(holder?.status).toBe('FAILED');
      expect(holder?.failure?.error).toBe('ExecutionABORTED');
    } finally {
      sfn.destroy();
      await plane.stop();
    }
  });

  it('a live holder is refused, and the refusal names its execution', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 10 }]);
    const plane = await privateControlPlane(cfg, {}, stuckScan(true));
    const sfn = sfnClient(plane.config);
    try {
      const backup = await startStuckBackup(plane, cluster);
      // Act
      const refused = await invoke(plane.lambda, 'start-backup', { cluster });
      // Assess
      expect(refused.functionError).toBeDefined();
      expect(refused.payload).toMatchObject({ errorType: 'BackupAlreadyRunningError' });
      expect(JSON.stringify(refused.payload)).toContain(backup.backupId);
      expect(JSON.stringify(refused.payload)).toContain(backup.executionArn);
      await sfn.send(new StopExecutionCommand({ executionArn: backup.executionArn }));
    } finally {
      sfn.destroy();
      await plane.stop();
    }
  });
});
