import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoLogCatalog } from '../adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { serviceMetric } from '../core/metric-names';
import { positiveInt, skewMargin, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

const MICROS_PER_HOUR = 3_600_000_000;

/** Daily schedule: `{"cluster": "shop", "confirm": true}`; console: without `confirm`, a plan. */
export const sweepRetentionSpec = defineFunction({
  name: 'sweep-retention',
  entry: 'functions/sweep-retention/handler.ts',
  description: 'Rewind: deletes backups and log objects outside the retention window (daily, console)',
  memorySize: 512,
  timeoutSeconds: 900,
  env: z.object({
    ...storage,
    ...skewMargin,
    /** FAILED backups younger than this keep their objects. */
    FAILED_GRACE_HOURS: positiveInt.default(48),
  }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    logCatalog: new DynamoLogCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    now: nowMicros,
    config: {
      marginMicros: env.SKEW_MARGIN_MS * 1000,
      failedGraceMicros: env.FAILED_GRACE_HOURS * MICROS_PER_HOUR,
    },
  }),
  run,
  respond: (result, _env, { logger, metrics }) => {
    logger.info('retention sweep', {
      cluster: result.cluster,
      now: result.now,
      keep: result.keep.length,
      delete: result.delete.length,
      deletedBackups: result.deleted.backups.length,
      deletedLogObjects: result.deleted.logObjects.length,
    });
    metrics.addMetric(serviceMetric.sweptBackups, MetricUnit.Count, result.deleted.backups.length);
    metrics.addMetric(serviceMetric.sweptLogObjects, MetricUnit.Count, result.deleted.logObjects.length);
    return result;
  },
});
