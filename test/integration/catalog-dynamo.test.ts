import { inject } from 'vitest';
import { catalogContract } from '../contract/catalog-contract';
import { localClients } from '../support/cloud';

catalogContract('DynamoDB Local', () => localClients(inject('localConfig')).catalog);
