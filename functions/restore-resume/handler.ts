import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreResumeSpec } from './spec';

export const handler = lambdaHandler(restoreResumeSpec);
