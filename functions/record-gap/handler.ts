import { lambdaHandler } from '../adapters/lambda-handler';
import { recordGapSpec } from './spec';

export const handler = lambdaHandler(recordGapSpec);
