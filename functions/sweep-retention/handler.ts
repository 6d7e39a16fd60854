import { lambdaHandler } from '../adapters/lambda-handler';
import { sweepRetentionSpec } from './spec';

export const handler = lambdaHandler(sweepRetentionSpec);
