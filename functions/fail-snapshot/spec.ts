import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { publishClusterMetric } from '../adapters/lambda-runtime';
import { clusterMetric } from '../core/metric-names';
import { storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Snapshot state machine, Catch: the backup is FAILED. */
export const failSnapshotSpec = defineFunction({
  name: 'fail-snapshot',
  entry: 'functions/fail-snapshot/handler.ts',
  description: 'Rewind: marks a snapshot FAILED and removes its partial objects',
  substitution: 'FailSnapshotFunctionArn',
  memorySize: 512,
  timeoutSeconds: 300,
  env: z.object(storage),
  deps: (env, { clients }) => ({ catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME) }),
  run,
  respond: (failed, _env, { logger, metrics }) => {
    publishClusterMetric(failed.clusterName, clusterMetric.backupFailed, MetricUnit.Count, 1, metrics);
    logger.error('backup failed', {
      cluster: failed.clusterName,
      backupId: failed.backupId,
      failure: failed.failure,
    });
    return failed;
  },
});
