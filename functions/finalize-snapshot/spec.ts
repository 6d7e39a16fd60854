import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { publishClusterMetric } from '../adapters/lambda-runtime';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { clusterMetric } from '../core/metric-names';
import { skewMargin, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Snapshot state machine, last task: the manifest, then COMPLETED. */
export const finalizeSnapshotSpec = defineFunction({
  name: 'finalize-snapshot',
  entry: 'functions/finalize-snapshot/handler.ts',
  description: 'Rewind: writes the manifest, then marks the snapshot COMPLETED',
  substitution: 'FinalizeSnapshotFunctionArn',
  memorySize: 1024,
  timeoutSeconds: 300,
  env: z.object({ ...storage, ...skewMargin }),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    dynamodb: clients.dynamodb,
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    now: nowMicros,
    config: { skewMarginMicros: env.SKEW_MARGIN_MS * 1000 },
  }),
  run,
  respond: (completed, _env, { logger, metrics }) => {
    // The "no backup for N hours" alarm counts these (cdk/constructs/monitoring.ts).
    publishClusterMetric(completed.clusterName, clusterMetric.backupCompleted, MetricUnit.Count, 1, metrics);
    logger.info('backup completed', {
      cluster: completed.clusterName,
      backupId: completed.backupId,
      items: completed.items,
      storedBytes: completed.storedBytes,
    });
    return completed;
  },
});
