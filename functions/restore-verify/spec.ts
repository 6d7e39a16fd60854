import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { snapshotRestoreDeps } from '../adapters/restore-runtime';
import { storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, last task: count the targets, mark the restore COMPLETED. */
export const restoreVerifySpec = defineFunction({
  name: 'restore-verify',
  entry: 'functions/restore-verify/handler.ts',
  description: 'Rewind restore: counts the target tables and marks the restore COMPLETED',
  substitution: 'RestoreVerifyFunctionArn',
  memorySize: 512,
  timeoutSeconds: 900,
  env: z.object(storage),
  deps: (env, { clients }) => ({
    ...snapshotRestoreDeps(env, clients),
    now: nowMicros,
  }),
  run,
});
