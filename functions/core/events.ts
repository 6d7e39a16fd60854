import { z } from 'zod';
import { InvalidInputError } from './errors';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from './keys';

/** The `cluster` field of every event: checked before any AWS call (core/keys.ts CLUSTER_NAME). */
export const clusterField = z
  .string({ error: 'a cluster name (string)' })
  .regex(CLUSTER_NAME, `a cluster name: ${CLUSTER_NAME_RULE}`);

/**
 * Validate an event with its zod schema. The error names the first offending field by its
 * path (e.g. `cluster`, `tables.0`) and what was expected, so a console user can fix it.
 */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what = 'event'): z.infer<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : what;
  throw new InvalidInputError(path, issue?.message ?? 'a valid value');
}
