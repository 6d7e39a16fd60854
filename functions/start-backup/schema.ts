import { z } from 'zod';
import { backupKind } from '../core/catalog-model';

/** Console event: `{"cluster": "orders", "name": "before-migration"}`. */
export const startBackupEvent = z
  .object({
    cluster: z.string({ error: 'a cluster name (string)' }).min(1, 'a non-empty cluster name'),
    name: z.string().min(1).max(255).optional(),
    kind: backupKind.default('manual'),
  })
  .strict();
export type StartBackupEvent = z.infer<typeof startBackupEvent>;
