import { inject } from 'vitest';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { dynamoClient } from '../../local/clients';
import { logCatalogContract } from '../contract/log-catalog-contract';

const cfg = inject('localConfig');
logCatalogContract('DynamoDB Local', () => new DynamoLogCatalog(dynamoClient(cfg), cfg.catalogTable));
