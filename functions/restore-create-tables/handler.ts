import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreCreateTablesSpec } from './spec';

export const handler = lambdaHandler(restoreCreateTablesSpec);
