import { lambdaHandler } from '../adapters/lambda-handler';
import { startBackupSpec } from './spec';

export const handler = lambdaHandler(startBackupSpec);
