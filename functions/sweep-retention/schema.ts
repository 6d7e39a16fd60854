import { z } from 'zod';
import { clusterField } from '../core/events';
import type { RetentionDecision } from '../core/retention';

/** Schedule / console event: `{"cluster": "shop"}` plans; `"confirm": true` also deletes. */
export const sweepRetentionEvent = z
  .object({
    cluster: clusterField,
    /** Plan as of this ISO-8601 UTC instant (default: the current time). */
    now: z.string().min(1).optional(),
    confirm: z.boolean().default(false),
  })
  .strict();
export type SweepRetentionEvent = z.input<typeof sweepRetentionEvent>;

export interface SweepRetentionResult {
  cluster: string;
  /** ISO-8601 UTC instants (microseconds). */
  now: string;
  windowStart: string;
  keep: RetentionDecision[];
  delete: RetentionDecision[];
  /** Each subject (backup id or log key) and why it is kept or deleted. */
  reasons: Record<string, string>;
  /**
   * What this run deleted (empty without `confirm`): backups marked DELETED with their objects,
   * and log keys whose object and index entry are both gone.
   */
  deleted: { backups: string[]; logObjects: string[] };
}
