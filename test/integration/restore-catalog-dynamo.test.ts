import { inject } from 'vitest';
import { DynamoRestoreCatalog } from '../../functions/adapters/dynamo-restore-catalog';
import { dynamoClient } from '../../local/clients';
import { restoreCatalogContract } from '../contract/restore-catalog-contract';

const cfg = inject('localConfig');
restoreCatalogContract('DynamoDB Local', () => new DynamoRestoreCatalog(dynamoClient(cfg), cfg.catalogTable));
