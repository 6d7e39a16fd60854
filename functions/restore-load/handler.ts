import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreLoadSpec } from './spec';

export const handler = lambdaHandler(restoreLoadSpec);
