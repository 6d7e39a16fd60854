import { z } from 'zod';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { restoreRef } from '../adapters/restore-job';
import { parseEvent } from '../core/events';
import type { RestoreJob } from '../core/restore-model';
import type { Micros } from '../core/time';

/** What the state machine's Catch passes: the job plus `failure` = {Error, Cause}. */
export const failRestoreInput = restoreRef.extend({
  failure: z.object({ Error: z.string().default('States.Unknown'), Cause: z.string().default('') }),
});

export interface FailRestoreDeps {
  restoreCatalog: RestoreCatalog;
  now: () => Micros;
}

/**
 * Mark the job FAILED with its cause. The target tables stay as they are (partly restored) and
 * stay reserved for the job: `rewind restore resume` runs it again into them, or the operator
 * deletes them. Never touches a source table.
 */
export async function run(event: unknown, deps: FailRestoreDeps): Promise<RestoreJob> {
  const input = parseEvent(failRestoreInput, event, 'restore-fail event');
  return deps.restoreCatalog.failRestore(
    input.cluster,
    input.restoreId,
    { error: input.failure.Error, cause: summarizeCause(input.failure.Cause) },
    deps.now(),
  );
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
