import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Catalog } from '../adapters/catalog';
import { describeTable } from '../adapters/table-schemas';
import { CATALOG_SCHEMA_VERSION } from '../core/catalog-model';
import { BackupNotFoundError, ClusterNotFoundError } from '../core/errors';
import { parseEvent } from '../core/events';
import { snapshotPrefix } from '../core/keys';
import { chooseSegmentCount, type SegmentPolicy } from '../core/segments';
import type { Micros } from '../core/time';
import { type PrepareSnapshotOutput, type SegmentWork, snapshotRequest } from './schema';

export interface PrepareSnapshotDeps {
  catalog: Catalog;
  dynamodb: DynamoDBClient;
  now: () => Micros;
  config: SegmentPolicy & { maxConcurrency: number };
}

/**
 * Register the backup (RUNNING), record `startTs` before any segment reads a page, and plan the
 * (table, segment) work items. A retry keeps the first `startTs`, so the window the log must
 * cover only ever grows.
 */
export async function run(event: unknown, deps: PrepareSnapshotDeps): Promise<PrepareSnapshotOutput> {
  const request = parseEvent(snapshotRequest, event, 'snapshot request');
  const cluster = await deps.catalog.getCluster(request.cluster);
  if (!cluster) throw new ClusterNotFoundError(request.cluster);

  const sizes = await Promise.all(
    cluster.tables.map(async (table) => ({
      table,
      bytes: (await describeTable(deps.dynamodb, table)).TableSizeBytes ?? 0,
    })),
  );

  // start-backup registers the backup before it starts the execution: an unknown id is not a
  // backup of this cluster, and must not become a RUNNING one here.
  const registered = await deps.catalog.getBackup(cluster.clusterName, request.backupId);
  if (!registered) throw new BackupNotFoundError(cluster.clusterName, request.backupId);

  const now = deps.now();
  const proposed = snapshotPrefix(cluster.clusterName, now, request.backupId);
  const backup = await deps.catalog.beginBackup({
    schemaVersion: CATALOG_SCHEMA_VERSION,
    clusterName: cluster.clusterName,
    backupId: request.backupId,
    kind: request.kind,
    name: request.name,
    status: 'RUNNING',
    requestedAt: request.requestedAt ?? now,
    startTs: now,
    snapshotPrefix: proposed,
    tables: [],
    items: 0,
    rawBytes: 0,
    storedBytes: 0,
  });
  const startTs = backup.startTs ?? now;
  const prefix = backup.snapshotPrefix ?? proposed;

  const work: SegmentWork[] = sizes.flatMap(({ table, bytes }) => {
    const totalSegments = chooseSegmentCount(bytes, deps.config);
    return Array.from({ length: totalSegments }, (_, segment) => ({
      cluster: cluster.clusterName,
      backupId: request.backupId,
      snapshotPrefix: prefix,
      table,
      segment,
      totalSegments,
    }));
  });

  return {
    cluster: cluster.clusterName,
    backupId: request.backupId,
    kind: request.kind,
    snapshotPrefix: prefix,
    startTs,
    maxConcurrency: deps.config.maxConcurrency,
    work,
  };
}
