import { describe, expect, it } from 'vitest';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { MemoryRestoreCatalog } from '../../functions/adapters/memory-restore-catalog';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import type { RestoreJob } from '../../functions/core/restore-model';
import { run } from '../../functions/execution-ended/run';
import { registerCluster } from '../support/clusters';
import { runningRestore } from '../support/restore-jobs';

const snapshotArn = 'arn:aws:states:us-east-1:1:stateMachine:rewind-snapshot';
const statusChange = (status: string, name: string, input: unknown, extra: Record<string, string> = {}) => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: {
    executionArn: `arn:aws:states:us-east-1:1:execution:rewind-snapshot:${name}`,
    stateMachineArn: snapshotArn,
    name,
    status,
    input: JSON.stringify(input),
    ...extra,
  },
});

async function runningBackup() {
  const catalog = new MemoryCatalog();
  await registerCluster(catalog, 'shop', ['orders']);
  await catalog.lockCluster('shop', 'b1');
  await catalog.beginBackup({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: 'shop',
    backupId: 'b1',
    kind: 'manual',
    status: 'RUNNING',
    requestedAt: 1,
    tables: [],
    items: 0,
    rawBytes: 0,
    storedBytes: 0,
  });
  return catalog;
}

const restoreJob = (executionArn: string): RestoreJob => ({
  ...runningRestore('shop', 'r1', 'b1', { from: 1_000, to: 5_000 }),
  attempt: 2,
  executionArn,
});

describe('execution-ended: executions that end without their Catch', () => {
  it.each(['ABORTED', 'TIMED_OUT', 'FAILED'])(
    'a snapshot execution %s marks its RUNNING backup FAILED with the cause and frees the lock',
    async (status) => {
      // Prepare
      const catalog = await runningBackup();
      const restoreCatalog = new MemoryRestoreCatalog();
      const event = statusChange(
        status,
        'b1',
        { cluster: 'shop', backupId: 'b1' },
        { error: 'States.DataLimitExceeded', cause: 'too big' },
      );
      // Act
      const result = await run(event, { catalog, restoreCatalog, now: () => 9 });
      // Assess
      expect(result).toMatchObject({ marked: 'backup', cluster: 'shop', id: 'b1' });
      const backup = await catalog.getBackup('shop', 'b1');
      expect(backup?.status).toBe('FAILED');
      expect(backup?.failure?.error).toBe('States.DataLimitExceeded');
      expect(backup?.failure?.cause).toContain(`ended ${status} without its Catch: too big`);
      await expect(catalog.lockCluster('shop', 'b2')).resolves.toBeUndefined();
    },
  );

  it('leaves a backup alone whose Catch already ran, and ignores succeeded executions', async () => {
    // Prepare
    const catalog = await runningBackup();
    await catalog.failBackup('shop', 'b1', { error: 'IncompleteSnapshotError', cause: 'segment 3' });
    const deps = { catalog, restoreCatalog: new MemoryRestoreCatalog(), now: () => 9 };
    // Act
    const failed = await run(statusChange('FAILED', 'b1', { cluster: 'shop', backupId: 'b1' }), deps);
    const succeeded = await run(statusChange('SUCCEEDED', 'b1', { cluster: 'shop', backupId: 'b1' }), deps);
    // Assess
    expect(failed.marked).toBe('none');
    expect(succeeded.marked).toBe('none');
    expect((await catalog.getBackup('shop', 'b1'))?.failure?.error).toBe('IncompleteSnapshotError');
  });

  it("a restore's current execution ending marks it FAILED; an older attempt's does not", async () => {
    // Prepare
    const current = 'arn:aws:states:us-east-1:1:execution:rewind-restore:r1-2';
    const restoreCatalog = new MemoryRestoreCatalog();
    await restoreCatalog.createRestore(restoreJob(current));
    const deps = { catalog: new MemoryCatalog(), restoreCatalog, now: () => 9 };
    const ended = (name: string) => ({
      ...statusChange('ABORTED', name, { cluster: 'shop', restoreId: 'r1' }),
      detail: {
        ...statusChange('ABORTED', name, {}).detail,
        executionArn: `arn:aws:states:us-east-1:1:execution:rewind-restore:${name}`,
        input: JSON.stringify({ cluster: 'shop', restoreId: 'r1' }),
      },
    });
    // Act
    const older = await run(ended('r1-1'), deps);
    const afterOlder = (await restoreCatalog.getRestore('shop', 'r1'))?.status;
    const newer = await run(ended('r1-2'), deps);
    // Assess
    expect(older.marked).toBe('none');
    expect(afterOlder).toBe('RUNNING');
    expect(newer.marked).toBe('restore');
    expect((await restoreCatalog.getRestore('shop', 'r1'))?.status).toBe('FAILED');
  });

  it('refuses an event that is not a Step Functions status change, naming the field', async () => {
    // Act
    const outcome = run(
      { source: 'aws.s3' },
      { catalog: new MemoryCatalog(), restoreCatalog: new MemoryRestoreCatalog(), now: () => 9 },
    );
    // Assess
    await expect(outcome).rejects.toThrow(/source/);
    await expect(outcome).rejects.toHaveProperty('name', 'InvalidInputError');
  });
});
