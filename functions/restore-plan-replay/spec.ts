import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { manifests } from '../adapters/restore-runtime';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { mapMaxConcurrency, positiveInt, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Restore state machine, after the load: the replay partitions. */
export const restorePlanReplaySpec = defineFunction({
  name: 'restore-plan-replay',
  entry: 'functions/restore-plan-replay/handler.ts',
  description: 'Rewind restore: partitions the log window for replay',
  substitution: 'RestorePlanReplayFunctionArn',
  memorySize: 1024,
  timeoutSeconds: 300,
  env: z.object({
    ...storage,
    ...mapMaxConcurrency,
    /** A replay worker holds at most about this many change records (its partition). */
    TARGET_RECORDS_PER_PARTITION: positiveInt.default(250_000),
    MAX_PARTITIONS: positiveInt.default(256),
  }),
  deps: (env, { clients }) => ({
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    now: nowMicros,
    manifests,
    config: {
      targetRecordsPerPartition: env.TARGET_RECORDS_PER_PARTITION,
      maxPartitions: env.MAX_PARTITIONS,
      maxConcurrency: env.MAP_MAX_CONCURRENCY,
    },
  }),
  run,
});
