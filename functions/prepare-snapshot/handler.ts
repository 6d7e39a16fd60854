import { lambdaHandler } from '../adapters/lambda-handler';
import { prepareSnapshotSpec } from './spec';

export const handler = lambdaHandler(prepareSnapshotSpec);
