import { lambdaHandler } from '../adapters/lambda-handler';
import { startRestoreSpec } from './spec';

export const handler = lambdaHandler(startRestoreSpec);
