import { z } from 'zod';
import { clusterField } from '../core/events';

/** Console event: `{"cluster": "orders", "backupId": "20261127T041500-3f9a2c"}`. */
export const deleteBackupEvent = z
  .object({
    cluster: clusterField,
    backupId: z.string({ error: 'a backup id (string)' }).min(1, 'a non-empty backup id'),
  })
  .strict();
export type DeleteBackupEvent = z.infer<typeof deleteBackupEvent>;

export interface DeleteBackupResult {
  cluster: string;
  backupId: string;
  status: 'DELETED';
  /** Microseconds since the epoch, from the catalog (the first delete's instant on a re-run). */
  deletedAt: number;
  /** Objects removed by this run (0 when a previous run already removed them all). */
  deletedObjects: number;
}
