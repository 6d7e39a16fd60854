import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { snapshotRestoreDeps } from '../adapters/restore-runtime';
import { fenceInterval, positiveInt, storage, writeConcurrency } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, load Map item: one (table, segment) of the snapshot. */
export const restoreLoadSpec = defineFunction({
  name: 'restore-load',
  entry: 'functions/restore-load/handler.ts',
  description: 'Rewind restore: loads snapshot chunks into a target table',
  substitution: 'RestoreLoadFunctionArn',
  memorySize: 1024,
  timeoutSeconds: 900,
  env: z.object({
    ...storage,
    ...writeConcurrency,
    ...fenceInterval,
    /** Stop after a chunk and hand back `nextChunk` when less than this is left. */
    TIME_RESERVE_MS: positiveInt.default(120_000),
  }),
  deps: (env, { clients, remainingMs }) => ({
    ...snapshotRestoreDeps(env, clients),
    remainingMs,
    config: {
      writeConcurrency: env.WRITE_CONCURRENCY,
      timeReserveMs: env.TIME_RESERVE_MS,
      fenceIntervalMs: env.FENCE_INTERVAL_MS,
    },
  }),
  run,
  respond: (result, _env, { metrics }) => {
    metrics.addMetric('RestoreItemsLoaded', MetricUnit.Count, result.items);
    return result;
  },
});
