import { z } from 'zod';

/**
 * Catalog items (docs/design.md §5). Every item carries `schemaVersion`; bump it when a shape
 * changes and teach the reader both shapes. Instants are microseconds since the epoch.
 */
export const CATALOG_SCHEMA_VERSION = 1;

export const clusterRecord = z.object({
  schemaVersion: z.number().int(),
  clusterName: z.string(),
  tables: z.array(z.string()).min(1),
  retentionDays: z.number().int().positive(),
  schedule: z.string().optional(),
  timeZone: z.string().optional(),
  createdAt: z.string(),
  /**
   * `REMOVED` once the cluster left the CDK config (ProtectedCluster's delete handler): no more
   * backups, log shipping or sweeps; its backups stay restorable. Absent = protected.
   */
  status: z.enum(['REMOVED']).optional(),
  /** The backup holding the cluster's one-snapshot-at-a-time lock, if any. */
  runningBackupId: z.string().optional(),
});
export type ClusterRecord = z.infer<typeof clusterRecord>;

/** Clusters still protected (not removed from the stack). */
export const isProtected = (cluster: Pick<ClusterRecord, 'status'>) => cluster.status !== 'REMOVED';

export const backupStatus = z.enum(['RUNNING', 'COMPLETED', 'FAILED', 'DELETED']);
export type BackupStatus = z.infer<typeof backupStatus>;

export const backupKind = z.enum(['auto', 'manual']);
export type BackupKind = z.infer<typeof backupKind>;

export const tableSummary = z.object({
  name: z.string(),
  items: z.number().int().nonnegative(),
  rawBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
});
export type TableSummary = z.infer<typeof tableSummary>;

export const backupRecord = z.object({
  schemaVersion: z.number().int(),
  clusterName: z.string(),
  backupId: z.string(),
  kind: backupKind,
  name: z.string().optional(),
  status: backupStatus,
  requestedAt: z.number().int(),
  /** Automatic backups: the instant the schedule fired for (names the backup, docs/design.md §5). */
  scheduledAt: z.number().int().optional(),
  /** Taken before the first Scan page of any segment. */
  startTs: z.number().int().optional(),
  /** Taken after the last page of every segment. */
  endTs: z.number().int().optional(),
  /** endTs + skew margin: the first instant this snapshot can restore (docs/design.md §3.2). */
  restorableFrom: z.number().int().optional(),
  snapshotPrefix: z.string().optional(),
  manifestKey: z.string().optional(),
  tables: z.array(tableSummary).default([]),
  items: z.number().int().nonnegative().default(0),
  rawBytes: z.number().int().nonnegative().default(0),
  storedBytes: z.number().int().nonnegative().default(0),
  failure: z.object({ error: z.string(), cause: z.string() }).optional(),
  executionArn: z.string().optional(),
  deletedAt: z.number().int().optional(),
  /** DELETED and its prefix seen empty after stragglers could write: the sweep looks no more. */
  purgedAt: z.number().int().optional(),
});
export type BackupRecord = z.infer<typeof backupRecord>;

export interface BackupCompletion {
  endTs: number;
  restorableFrom: number;
  manifestKey: string;
  tables: TableSummary[];
  items: number;
  rawBytes: number;
  storedBytes: number;
}
