import { z } from 'zod';
import { backupKind } from '../core/catalog-model';
import { clusterField } from '../core/events';

/**
 * Console event: `{"cluster": "orders", "name": "before-migration"}`. The automatic-backup
 * schedule sends `{"cluster": "orders", "kind": "auto", "scheduledAt": "<aws.scheduler.scheduled-time>"}`:
 * the planned fire time names the backup, so a repeated delivery of one scheduled run (EventBridge
 * Scheduler retries, Lambda async retries) starts one backup, not two.
 */
export const startBackupEvent = z
  .object({
    cluster: clusterField,
    name: z.string().min(1).max(255).optional(),
    kind: backupKind.default('manual'),
    /** ISO-8601 UTC instant the schedule fired for (kind `auto` only). */
    scheduledAt: z.string({ error: 'an ISO-8601 UTC instant (string)' }).min(1).optional(),
  })
  .strict()
  .refine((event) => event.scheduledAt === undefined || event.kind === 'auto', {
    path: ['scheduledAt'],
    message: 'only with kind "auto" (the schedule sets it)',
  });
export type StartBackupEvent = z.infer<typeof startBackupEvent>;
