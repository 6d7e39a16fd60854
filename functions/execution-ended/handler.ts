import { lambdaHandler } from '../adapters/lambda-handler';
import { executionEndedSpec } from './spec';

export const handler = lambdaHandler(executionEndedSpec);
