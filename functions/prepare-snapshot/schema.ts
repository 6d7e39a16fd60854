import { z } from 'zod';
import { backupKind } from '../core/catalog-model';

/** Input of the snapshot state machine, as start-backup (or the schedule) starts it. */
export const snapshotRequest = z.object({
  cluster: z.string().min(1),
  backupId: z.string().min(1),
  kind: backupKind.default('manual'),
  name: z.string().min(1).max(255).optional(),
  requestedAt: z.number().int().optional(),
});
export type SnapshotRequest = z.infer<typeof snapshotRequest>;

export interface SegmentWork {
  cluster: string;
  backupId: string;
  snapshotPrefix: string;
  table: string;
  segment: number;
  totalSegments: number;
}

export interface PrepareSnapshotOutput {
  cluster: string;
  backupId: string;
  kind: 'auto' | 'manual';
  snapshotPrefix: string;
  startTs: number;
  maxConcurrency: number;
  work: SegmentWork[];
}
