import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { snapshotRestoreDeps } from '../adapters/restore-runtime';
import { mapMaxConcurrency, positiveInt, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, first task (docs/design.md §3, §8). */
export const restoreCreateTablesSpec = defineFunction({
  name: 'restore-create-tables',
  entry: 'functions/restore-create-tables/handler.ts',
  description: 'Rewind restore: creates the target tables and plans the load',
  substitution: 'RestoreCreateTablesFunctionArn',
  memorySize: 512,
  timeoutSeconds: 300,
  env: z.object({
    ...storage,
    ...mapMaxConcurrency,
    /** AWS: pre-warm new tables to this many writes/s (unset: the on-demand default, 4,000/s). */
    WARM_WRITES_PER_SECOND: positiveInt.optional(),
    /** Wait between checks while a new table is not ACTIVE yet. */
    TABLE_WAIT_SECONDS: positiveInt.default(10),
  }),
  deps: (env, { clients }) => ({
    ...snapshotRestoreDeps(env, clients),
    now: nowMicros,
    config: {
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
      warmWritesPerSecond: env.WARM_WRITES_PER_SECOND,
      waitSeconds: env.TABLE_WAIT_SECONDS,
    },
  }),
  run,
});
