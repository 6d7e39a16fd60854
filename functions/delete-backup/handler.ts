import { lambdaHandler } from '../adapters/lambda-handler';
import { deleteBackupSpec } from './spec';

export const handler = lambdaHandler(deleteBackupSpec);
