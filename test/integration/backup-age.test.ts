import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { run as advanceCheckpoint } from '../../functions/advance-checkpoint/run';
import { kinesisClient } from '../../local/clients';
import { demoCluster, localClients, startAndWait } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, lambda, catalog } = localClients(cfg);
const kinesis = kinesisClient(cfg);

afterAll(() => {
  dynamodb.destroy();
  kinesis.destroy();
});

const advance = (event: unknown, now: number) =>
  advanceCheckpoint(event, {
    catalog,
    logCatalog: new DynamoLogCatalog(dynamodb, cfg.catalogTable),
    kinesis,
    now: () => now,
    config: { marginMicros: 1_000_000, shardConcurrency: 2 },
  });

describe('advance-checkpoint reports each cluster backup age (the "backup missing" alarm gauge)', () => {
  it('counts from the newest COMPLETED backup, for one cluster or all', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 10 }]);
    const backup = await startAndWait(lambda, catalog, cluster);
    const oneHourLater = (backup.endTs ?? 0) + 3_600_000_000;
    // Act
    const single = await advance({ cluster }, oneHourLater);
    const all = await advance({}, oneHourLater);
    // Assess
    expect(backup.status).toBe('COMPLETED');
    expect(single.clusters[0]).toMatchObject({ cluster, backupAgeSeconds: 3600 });
    expect(all.clusters.find((c) => c.cluster === cluster)?.backupAgeSeconds).toBe(3600);
  });

  it('counts a cluster with no backup yet from its registration, not from the epoch', async () => {
    // Prepare
    const { cluster } = await demoCluster(cfg, [{ kind: 'orders', items: 1 }]);
    const registered = Date.parse((await catalog.getCluster(cluster))?.createdAt ?? '') * 1000;
    // Act
    const report = await advance({ cluster }, registered + 90_000_000);
    // Assess
    expect(report.clusters[0]?.backupAgeSeconds).toBe(90);
  });
});
