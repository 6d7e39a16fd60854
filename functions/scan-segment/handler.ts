import { lambdaHandler } from '../adapters/lambda-handler';
import { scanSegmentSpec } from './spec';

export const handler = lambdaHandler(scanSegmentSpec);
