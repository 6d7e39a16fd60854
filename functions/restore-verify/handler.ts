import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreVerifySpec } from './spec';

export const handler = lambdaHandler(restoreVerifySpec);
