import { z } from 'zod';
import { nowMicros } from '../adapters/clock';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { DynamoRestoreCatalog } from '../adapters/dynamo-restore-catalog';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/**
 * Console, CLI: `{"cluster": "shop", "backupId": "20261127T041500-3f9a2c"}`; sweep-retention
 * calls the same run(). A run cut short leaves a DELETED backup with objects: the next sweep
 * removes them.
 */
export const deleteBackupSpec = defineFunction({
  name: 'delete-backup',
  entry: 'functions/delete-backup/handler.ts',
  description: 'Rewind: deletes one backup of a cluster and its objects (console, CLI)',
  memorySize: 256,
  timeoutSeconds: 300,
  env: z.object(storage),
  deps: (env, { clients }) => ({
    catalog: new DynamoCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    now: nowMicros,
  }),
  run,
  respond: (result, _env, { logger }) => {
    logger.info('backup deleted', {
      cluster: result.cluster,
      backupId: result.backupId,
      deletedObjects: result.deletedObjects,
    });
    return result;
  },
});
