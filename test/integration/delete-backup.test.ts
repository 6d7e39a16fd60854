import { afterAll, describe, expect, inject, it } from 'vitest';
import { demoCluster, invoke, localClients, startAndWait } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, lambda, catalog, store } = localClients(cfg);

afterAll(() => {
  dynamodb.destroy();
});

async function objectsUnder(prefix: string): Promise<number> {
  let count = 0;
  for await (const _ of store.list(prefix)) count++;
  return count;
}

describe('delete-backup console event (the Lambda CDK deploys)', () => {
  it('marks the backup DELETED and removes its objects; a second invoke changes nothing', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 40 }]);
    const backup = await startAndWait(lambda, catalog, cluster);
    const prefix = backup.snapshotPrefix ?? '';
    const objectsBefore = await objectsUnder(prefix);
    // Act
    const first = await invoke(lambda, 'delete-backup', { cluster, backupId: backup.backupId });
    const second = await invoke(lambda, 'delete-backup', { cluster, backupId: backup.backupId });
    // Assess
    expect(objectsBefore).toBeGreaterThan(1);
    expect(first.functionError).toBeUndefined();
    expect(first.payload).toMatchObject({ status: 'DELETED', deletedObjects: objectsBefore });
    expect(second.payload).toMatchObject({ status: 'DELETED', deletedObjects: 0 });
    expect(await objectsUnder(prefix)).toBe(0);
    expect((await catalog.getBackup(cluster, backup.backupId))?.status).toBe('DELETED');
  });

  it.each([
    [{ cluster: 'c' }, 'backupId'],
    [{ backupId: 'b' }, 'cluster'],
    [{ cluster: 'c', backupId: 'b', force: true }, 'force'],
  ])('rejects malformed event %j naming the field %s', async (event, field) => {
    // Act
    const result = await invoke(lambda, 'delete-backup', event);
    // Assess
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'InvalidInputError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(field);
  });
});
