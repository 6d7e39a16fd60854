import { lambdaHandler } from '../adapters/lambda-handler';
import { restorePlanReplaySpec } from './spec';

export const handler = lambdaHandler(restorePlanReplaySpec);
