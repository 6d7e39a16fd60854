import type { FunctionClients } from '../spec';
import { DynamoRestoreCatalog } from './dynamo-restore-catalog';
import { ManifestCache } from './restore-objects';
import { DynamoTargetTables } from './restore-tables';
import { S3ObjectStore } from './s3-object-store';

/** One per container: the manifest of a restore is read once however many units it serves. */
export const manifests = new ManifestCache();

/**
 * What the restore functions that read a snapshot into the target tables share (create-tables,
 * load, verify): the restore catalog, the bucket, the target tables and the manifest cache.
 */
export const snapshotRestoreDeps = (
  env: { CATALOG_TABLE_NAME: string; BUCKET_NAME: string },
  clients: FunctionClients,
) => ({
  restoreCatalog: new DynamoRestoreCatalog(clients.dynamodb, env.CATALOG_TABLE_NAME),
  store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
  tables: new DynamoTargetTables(clients.dynamodb),
  manifests,
});
