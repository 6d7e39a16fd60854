import { lambdaHandler } from '../adapters/lambda-handler';
import { advanceCheckpointSpec } from './spec';

export const handler = lambdaHandler(advanceCheckpointSpec);
