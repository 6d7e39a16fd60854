import { z } from 'zod';
import type { Catalog } from '../adapters/catalog';
import type { BackupRecord } from '../core/catalog-model';
import { parseEvent } from '../core/events';

/** What the state machine's Catch passes: the request plus `failure` = {Error, Cause}. */
export const failSnapshotInput = z.object({
  cluster: z.string().min(1),
  backupId: z.string().min(1),
  failure: z.object({ Error: z.string().default('States.Unknown'), Cause: z.string().default('') }),
});

export interface FailSnapshotDeps {
  catalog: Catalog;
}

/**
 * Mark the backup FAILED with its cause and release the cluster lock. The objects already
 * written stay (no manifest, so nothing presents them as a backup) until retention removes
 * FAILED leftovers after its grace period.
 */
export async function run(event: unknown, deps: FailSnapshotDeps): Promise<BackupRecord> {
  const input = parseEvent(failSnapshotInput, event, 'fail event');
  const failed = await deps.catalog.failBackup(input.cluster, input.backupId, {
    error: input.failure.Error,
    cause: summarizeCause(input.failure.Cause),
  });
  await deps.catalog.unlockCluster(input.cluster, input.backupId);
  return failed;
}

/** Lambda errors arrive as a JSON string {errorType, errorMessage, trace}; keep the message. */
function summarizeCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed.errorMessage) return `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}`;
  } catch {
    // not JSON: keep as is
  }
  return cause.slice(0, 2000);
}
