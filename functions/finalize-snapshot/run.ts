import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Catalog } from '../adapters/catalog';
import type { ObjectStore } from '../adapters/object-store';
import { readTableSchema } from '../adapters/table-schemas';
import type { BackupRecord } from '../core/catalog-model';
import { BackupNotFoundError, IncompleteSnapshotError } from '../core/errors';
import { parseEvent } from '../core/events';
import { manifestKey, partReportPrefix } from '../core/keys';
import { gatherChunks, MANIFEST_FORMAT, type Manifest, type PartReport, partReport } from '../core/manifest';
import { formatIsoMicros, type Micros, parseIsoMicros } from '../core/time';
import { finalizeSnapshotInput } from './schema';

export interface FinalizeSnapshotDeps {
  catalog: Catalog;
  dynamodb: DynamoDBClient;
  store: ObjectStore;
  now: () => Micros;
  config: { skewMarginMicros: number };
}

/**
 * Record `endTs`, write `manifest.json` after all data (it is the completion marker), then mark
 * the backup COMPLETED — in that order, so a COMPLETED backup always has its manifest
 * (docs/design.md §3.6). Re-running after a crash converges: a manifest already written is reused.
 */
export async function run(event: unknown, deps: FinalizeSnapshotDeps): Promise<BackupRecord> {
  const input = parseEvent(finalizeSnapshotInput, event, 'finalize event');
  const backup = await deps.catalog.getBackup(input.cluster, input.backupId);
  if (!backup) throw new BackupNotFoundError(input.cluster, input.backupId);
  const key = manifestKey(input.snapshotPrefix);

  const manifest = (await deps.store.exists(key))
    ? (JSON.parse((await deps.store.get(key)).toString('utf8')) as Manifest)
    : await writeManifest(input, backup, deps, key);

  const completed = await deps.catalog.completeBackup(input.cluster, input.backupId, {
    endTs: parseIsoMicros(manifest.endTs),
    restorableFrom: parseIsoMicros(manifest.restorableFrom),
    manifestKey: key,
    tables: manifest.tables.map((t) => ({
      name: t.schema.tableName,
      items: t.items,
      rawBytes: t.rawBytes,
      storedBytes: t.storedBytes,
      chunks: t.chunks.length,
    })),
    items: manifest.items,
    rawBytes: manifest.rawBytes,
    storedBytes: manifest.storedBytes,
  });
  await deps.catalog.unlockCluster(input.cluster, input.backupId);
  return completed;
}

async function writeManifest(
  input: ReturnType<typeof finalizeSnapshotInput.parse>,
  backup: BackupRecord,
  deps: FinalizeSnapshotDeps,
  key: string,
): Promise<Manifest> {
  const endTs = deps.now();
  const reports: PartReport[] = [];
  for await (const object of deps.store.list(partReportPrefix(input.snapshotPrefix))) {
    reports.push(partReport.parse(JSON.parse((await deps.store.get(object.key)).toString('utf8'))));
  }

  const finished = new Set(reports.filter((r) => r.done).map((r) => `${r.table}#${r.segment}`));
  const missing = input.work.map((w) => `${w.table}#${w.segment}`).filter((id) => !finished.has(id));
  if (missing.length > 0) throw new IncompleteSnapshotError(input.backupId, missing);

  const chunksByTable = gatherChunks(reports);
  const tables = [...new Set(input.work.map((w) => w.table))];
  await removeUnlistedChunks(deps.store, input.snapshotPrefix, tables, chunksByTable);

  const tableEntries = await Promise.all(
    tables.map(async (table) => {
      const chunks = chunksByTable.get(table) ?? [];
      const sum = (field: 'items' | 'rawBytes' | 'storedBytes') =>
        chunks.reduce((total, c) => total + c[field], 0);
      return {
        schema: await readTableSchema(deps.dynamodb, table),
        segments: input.work.find((w) => w.table === table)?.totalSegments ?? 1,
        items: sum('items'),
        rawBytes: sum('rawBytes'),
        storedBytes: sum('storedBytes'),
        chunks,
      };
    }),
  );
  const total = (field: 'items' | 'rawBytes' | 'storedBytes') =>
    tableEntries.reduce((sum, t) => sum + t[field], 0);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    cluster: input.cluster,
    backupId: input.backupId,
    kind: input.kind,
    name: backup.name,
    startTs: formatIsoMicros(input.startTs),
    endTs: formatIsoMicros(endTs),
    restorableFrom: formatIsoMicros(endTs + deps.config.skewMarginMicros),
    skewMarginMicros: deps.config.skewMarginMicros,
    tables: tableEntries,
    items: total('items'),
    rawBytes: total('rawBytes'),
    storedBytes: total('storedBytes'),
  };
  await deps.store.put(key, JSON.stringify(manifest, null, 1), 'application/json');
  return manifest;
}

/** Chunks a failed attempt wrote but no report lists are not part of the backup: remove them. */
async function removeUnlistedChunks(
  store: ObjectStore,
  prefix: string,
  tables: string[],
  listed: Map<string, { key: string }[]>,
): Promise<void> {
  const keep = new Set([...listed.values()].flat().map((c) => c.key));
  const stale: string[] = [];
  for (const table of tables) {
    for await (const object of store.list(`${prefix}${table}/`))
      if (!keep.has(object.key)) stale.push(object.key);
  }
  if (stale.length > 0) await store.delete(stale);
}
