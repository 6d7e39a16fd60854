import { lambdaHandler } from '../adapters/lambda-handler';
import { finalizeSnapshotSpec } from './spec';

export const handler = lambdaHandler(finalizeSnapshotSpec);
