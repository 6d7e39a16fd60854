import { z } from 'zod';
import { clusterField } from '../core/events';

/**
 * Console event: `{"cluster": "shop", "to": "2026-11-27T04:15:00.123456Z", "targetPrefix":
 * "restored-", "tables": ["orders"]}`. `to` is an ISO-8601 UTC instant, `latest` (the log
 * checkpoint) or `backup:<backupId>` (that backup's first restorable instant).
 */
export const startRestoreEvent = z
  .object({
    cluster: clusterField,
    to: z
      .string({ error: 'an ISO-8601 UTC instant, "latest" or "backup:<backupId>"' })
      .min(1, 'an ISO-8601 UTC instant, "latest" or "backup:<backupId>"'),
    targetPrefix: z
      .string({ error: 'a target table name prefix (string)' })
      .regex(/^[A-Za-z0-9_.-]{1,200}$/, '1-200 characters of [A-Za-z0-9_.-]'),
    tables: z
      .array(z.string().min(1, 'a non-empty table name'), { error: 'a list of table names' })
      .min(1, 'at least one table (or leave tables out for all)')
      .optional(),
  })
  .strict();
export type StartRestoreEvent = z.infer<typeof startRestoreEvent>;

/** What start-restore and resume-restore return (and the CLI prints). */
export interface StartedRestore {
  restoreId: string;
  cluster: string;
  status: string;
  restorePoint: string;
  backupId: string;
  attempt: number;
  executionArn: string;
  tables: { source: string; target: string }[];
}
