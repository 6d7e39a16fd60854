import type { Catalog } from '../../functions/adapters/catalog';
import { CATALOG_SCHEMA_VERSION, type ClusterRecord } from '../../functions/core/catalog-model';

/** Register a cluster in a catalog (7-day retention unless `extra` says otherwise). */
export async function registerCluster(
  catalog: Pick<Catalog, 'putCluster'>,
  clusterName: string,
  tables: string[],
  extra: Partial<ClusterRecord> = {},
): Promise<void> {
  await catalog.putCluster({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName,
    tables,
    retentionDays: 7,
    createdAt: new Date().toISOString(),
    ...extra,
  });
}
