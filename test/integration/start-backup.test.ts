import { describe, expect, inject, it } from 'vitest';
import { invoke, localClients, uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const { lambda, catalog } = localClients(cfg);

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

  it.each([
    [{}, 'cluster'],
    [{ cluster: 42 }, 'cluster'],
    [{ cluster: '' }, 'cluster'],
    [{ cluster: 'c', kind: 'hourly' }, 'kind'],
    [{ cluster: 'c', name: '' }, 'name'],
    [{ cluster: 'c', clsuter: 'typo' }, 'clsuter'],
  ])('rejects malformed event %j naming the field %s', async (event, field) => {
    // Act
    const result = await invoke(lambda, 'start-backup', event);
    // Assess
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'InvalidInputError' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(field);
  });
});
