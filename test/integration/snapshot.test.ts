import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  compareItemSets,
  readManifest,
  setsMatch,
  snapshotItems,
  tableItems,
} from '../../demo/snapshot-check';
import { partReportPrefix } from '../../functions/core/keys';
import { localFunction } from '../../local/sfn-runner';
import { demoCluster, localClients, privateControlPlane, startAndWait } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, catalog, store, lambda } = localClients(cfg);

describe('snapshot backup on the emulators', () => {
  let cluster: string;
  let tableNames: string[];

  beforeAll(async () => {
    ({ cluster, tableNames } = await demoCluster(cfg, [
      { kind: 'orders', items: 10_000 },
      { kind: 'blobs', items: 10_000 },
    ]));
  });

  it('captures every item of every table exactly once, every type intact, checksums matching', async () => {
    // Act
    const backup = await startAndWait(lambda, catalog, cluster);
    // Assess
    expect(backup.status).toBe('COMPLETED');
    expect(backup.items).toBe(20_000);
    expect(backup.startTs).toBeLessThan(backup.endTs ?? 0);
    const manifest = await readManifest(store, backup.manifestKey ?? '');
    expect(manifest.tables.map((t) => t.schema.tableName).sort()).toEqual([...tableNames].sort());
    for (const table of tableNames) {
      const [source, snapshot] = await Promise.all([
        tableItems(dynamodb, table),
        snapshotItems(store, manifest, table),
      ]);
      const comparison = compareItemSets(source, snapshot);
      expect(comparison).toMatchObject({
        expected: 10_000,
        actual: 10_000,
        missing: 0,
        unexpected: 0,
        duplicates: 0,
      });
    }
    const orders = manifest.tables.find((t) => t.schema.tableName === tableNames[0]);
    expect(orders?.schema.globalSecondaryIndexes.map((i) => i.indexName)).toEqual(['by-status']);
    expect(orders?.schema.keySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('resumes a segment cut off by its time limit from LastEvaluatedKey, losing and duplicating nothing', async () => {
    // Prepare: a 1 s "Lambda timeout" with 950 ms reserve leaves ~50 ms per invocation, and
    // small pages and chunks, so every segment needs several invocations and several chunks.
    const small = await demoCluster(cfg, [
      { kind: 'orders', items: 3_000 },
      { kind: 'blobs', items: 2_000 },
    ]);
    const plane = await privateControlPlane(cfg, {
      env: {
        'scan-segment': { TIME_RESERVE_MS: 950, SCAN_PAGE_LIMIT: 100, CHUNK_MAX_RAW_BYTES: 128 * 1024 },
        'prepare-snapshot': { MIN_SEGMENTS: 2 },
      },
      timeoutsMs: { 'scan-segment': 1_000 },
    });
    try {
      // Act
      const backup = await startAndWait(plane.lambda, catalog, small.cluster);
      // Assess
      expect(backup.status).toBe('COMPLETED');
      const manifest = await readManifest(store, backup.manifestKey ?? '');
      let reports = 0;
      for await (const _ of store.list(partReportPrefix(backup.snapshotPrefix ?? ''))) reports++;
      const segments = manifest.tables.reduce((sum, t) => sum + t.segments, 0);
      expect(reports).toBeGreaterThan(segments); // some segment was continued at least once
      for (const table of small.tableNames) {
        const comparison = compareItemSets(
          await tableItems(dynamodb, table),
          await snapshotItems(store, manifest, table),
        );
        expect(setsMatch(comparison), JSON.stringify(comparison)).toBe(true);
      }
    } finally {
      await plane.stop();
    }
  });

  it('marks the backup FAILED, never COMPLETED, when a segment fails; no manifest is written', async () => {
    // Prepare: segment 1 of every table crashes, as a Lambda would.
    const doomed = await demoCluster(cfg, [{ kind: 'orders', items: 500 }]);
    const plane = await privateControlPlane(
      cfg,
      { env: { 'prepare-snapshot': { MIN_SEGMENTS: 2 } } },
      (registry) => ({
        ...registry,
        'scan-segment': localFunction(async (event, context) => {
          if ((event as { segment: number }).segment === 1) throw new Error('disk on fire');
          return registry['scan-segment']?.handler(event, context);
        }),
      }),
    );
    try {
      // Act
      const backup = await startAndWait(plane.lambda, catalog, doomed.cluster);
      // Assess
      expect(backup.status).toBe('FAILED');
      expect(backup.failure?.cause).toContain('disk on fire');
      expect(await store.exists(`${backup.snapshotPrefix}manifest.json`)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await catalog.getBackup(doomed.cluster, backup.backupId))?.status).toBe('FAILED');
      expect((await catalog.getCluster(doomed.cluster))?.runningBackupId).toBeUndefined();
    } finally {
      await plane.stop();
    }
  });
});
