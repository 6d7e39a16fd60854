import type { BackupRecord, ClusterRecord } from '../functions/core/catalog-model';
import { formatIsoMicros, type Micros, parseIsoMicros } from '../functions/core/time';

/**
 * What the CLI prints: JSON views of catalog records (instants as ISO-8601 UTC with six
 * fraction digits, absent values as null so every document has the same keys) and their
 * human renderings.
 */
export const iso = (micros: Micros | undefined): string | null =>
  micros === undefined ? null : formatIsoMicros(micros);

/** An ISO text from elsewhere (e.g. CDK's createdAt), normalized to six fraction digits. */
export function isoText(text: string): string {
  try {
    return formatIsoMicros(parseIsoMicros(text));
  } catch {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? text : formatIsoMicros(ms * 1000);
  }
}

export function clusterView(cluster: ClusterRecord) {
  return {
    cluster: cluster.clusterName,
    tables: cluster.tables,
    retentionDays: cluster.retentionDays,
    schedule: cluster.schedule ?? null,
    timeZone: cluster.timeZone ?? null,
    createdAt: isoText(cluster.createdAt),
    runningBackupId: cluster.runningBackupId ?? null,
    /** REMOVED: left the stack's config; its backups stay restorable, nothing new is taken. */
    status: cluster.status ?? 'PROTECTED',
  };
}
export type ClusterView = ReturnType<typeof clusterView>;

export function backupView(backup: BackupRecord) {
  return {
    backupId: backup.backupId,
    cluster: backup.clusterName,
    name: backup.name ?? null,
    kind: backup.kind,
    status: backup.status,
    requestedAt: iso(backup.requestedAt),
    startTs: iso(backup.startTs),
    endTs: iso(backup.endTs),
    /** The first instant this snapshot can restore (endTs + skew margin). */
    restorableFrom: iso(backup.restorableFrom),
    tables: backup.tables.map((t) => ({
      name: t.name,
      items: t.items,
      /** Raw (uncompressed DynamoDB JSON) bytes. */
      bytes: t.rawBytes,
      storedBytes: t.storedBytes,
      chunks: t.chunks,
    })),
    items: backup.items,
    bytes: backup.rawBytes,
    storedBytes: backup.storedBytes,
    snapshotPrefix: backup.snapshotPrefix ?? null,
    manifestKey: backup.manifestKey ?? null,
    executionArn: backup.executionArn ?? null,
    failure: backup.failure ?? null,
    deletedAt: iso(backup.deletedAt),
  };
}
export type BackupView = ReturnType<typeof backupView>;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A plain text table: a header row and aligned columns, two spaces apart. */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `key  value` lines with aligned values. */
export function fields(pairs: [string, string | number | null][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value ?? '-'}`).join('\n');
}

export function clusterTable(clusters: ClusterView[]): string {
  if (clusters.length === 0) return 'no clusters registered';
  return table(
    ['CLUSTER', 'TABLES', 'RETENTION', 'SCHEDULE', 'RUNNING BACKUP'],
    clusters.map((c) => [
      c.cluster,
      c.tables.join(','),
      `${c.retentionDays}d`,
      c.schedule ? `${c.schedule}${c.timeZone ? ` (${c.timeZone})` : ''}` : null,
      c.runningBackupId,
    ]),
  );
}

export function clusterDetails(c: ClusterView): string {
  return fields([
    ['cluster', c.cluster],
    ['tables', c.tables.join(', ')],
    ['retention', `${c.retentionDays} days`],
    ['schedule', c.schedule ? `${c.schedule}${c.timeZone ? ` (${c.timeZone})` : ' (UTC)'}` : null],
    ['created', c.createdAt],
    ['running backup', c.runningBackupId],
  ]);
}

export function backupTable(backups: BackupView[]): string {
  if (backups.length === 0) return 'no backups';
  return table(
    ['BACKUP ID', 'KIND', 'STATUS', 'NAME', 'START', 'END', 'ITEMS', 'STORED'],
    backups.map((b) => [
      b.backupId,
      b.kind,
      b.status,
      b.name,
      b.startTs,
      b.endTs,
      b.items,
      humanBytes(b.storedBytes),
    ]),
  );
}

export function backupDetails(b: BackupView): string {
  const head = fields([
    ['backup', b.backupId],
    ['cluster', b.cluster],
    ['name', b.name],
    ['kind', b.kind],
    ['status', b.status],
    ['requested', b.requestedAt],
    ['start', b.startTs],
    ['end', b.endTs],
    ['restorable from', b.restorableFrom],
    ['items', b.items],
    ['raw size', humanBytes(b.bytes)],
    ['stored size', humanBytes(b.storedBytes)],
    ['manifest', b.manifestKey],
    ...(b.failure ? ([['failure', `${b.failure.error}: ${b.failure.cause}`]] as [string, string][]) : []),
    ...(b.deletedAt ? ([['deleted', b.deletedAt]] as [string, string][]) : []),
  ]);
  if (b.tables.length === 0) return head;
  const tables = table(
    ['TABLE', 'ITEMS', 'RAW', 'STORED', 'CHUNKS'],
    b.tables.map((t) => [t.name, t.items, humanBytes(t.bytes), humanBytes(t.storedBytes), t.chunks]),
  );
  return `${head}\n\n${tables}`;
}
