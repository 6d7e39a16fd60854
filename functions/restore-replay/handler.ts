import { lambdaHandler } from '../adapters/lambda-handler';
import { restoreReplaySpec } from './spec';

export const handler = lambdaHandler(restoreReplaySpec);
