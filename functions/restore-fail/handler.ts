import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreFailSpec } from './spec';

export const handler = lambdaHandler(restoreFailSpec);
