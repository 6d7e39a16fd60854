import { lambdaHandler } from '../adapters/lambda-handler';
import { failSnapshotSpec } from './spec';

export const handler = lambdaHandler(failSnapshotSpec);
