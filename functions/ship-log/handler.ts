import { lambdaHandler } from '../adapters/lambda-handler';
import { shipLogSpec } from './spec';

export const handler = lambdaHandler(shipLogSpec);
