import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { mapMaxConcurrency, positiveInt, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Snapshot state machine, first task: register the backup, plan its (table, segment) items. */
export const prepareSnapshotSpec = defineFunction({
  name: 'prepare-snapshot',
  entry: 'functions/prepare-snapshot/handler.ts',
  description: 'Rewind: registers a snapshot backup and plans its scan segments',
  substitution: 'PrepareSnapshotFunctionArn',
  memorySize: 512,
  timeoutSeconds: 120,
  env: z.object({
    ...storage,
    /** Aim for this many raw bytes per scan segment (docs/design.md §8: ~1 GB on AWS). */
    SEGMENT_TARGET_BYTES: positiveInt.default(1_000_000_000),
    MIN_SEGMENTS: positiveInt.default(1),
    MAX_SEGMENTS: positiveInt.default(1000),
    ...mapMaxConcurrency,
  }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    dynamodb: clients.dynamodb,
    now: nowMicros,
    config: {
      targetBytesPerSegment: env.SEGMENT_TARGET_BYTES,
      minSegments: env.MIN_SEGMENTS,
      maxSegments: env.MAX_SEGMENTS,
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
    },
  }),
  run,
});
