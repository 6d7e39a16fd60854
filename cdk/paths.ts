import { fileURLToPath } from 'node:url';

/** The repository root: every path in `functions/env.ts` and `statemachines/` is relative to it. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** An absolute path from a repository-relative one. */
export const fromRoot = (relative: string): string =>
  fileURLToPath(new URL(`../${relative}`, import.meta.url));
