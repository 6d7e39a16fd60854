import { DynamoLogCatalog } from './dynamo-log-catalog';
import { DynamoRestoreCatalog } from './dynamo-restore-catalog';
import { awsClients } from './lambda-runtime';
import { ManifestCache } from './restore-objects';
import { DynamoTargetTables } from './restore-tables';

/** What the restore handlers share in a Lambda container, created on first use. */
export const restoreCatalogFor = (tableName: string) =>
  new DynamoRestoreCatalog(awsClients().dynamodb, tableName);
export const logCatalogFor = (tableName: string) => new DynamoLogCatalog(awsClients().dynamodb, tableName);
export const targetTables = () => new DynamoTargetTables(awsClients().dynamodb);

/** One per container: the manifest of a restore is read once however many units it serves. */
export const manifests = new ManifestCache();
