import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { Catalog } from '../functions/adapters/catalog';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import type { ObjectStore } from '../functions/adapters/object-store';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import { InvalidInputError, RewindError } from '../functions/core/errors';
import { deleteBackupSpec } from '../functions/delete-backup/spec';
import { restoreResumeSpec } from '../functions/restore-resume/spec';
import { startBackupSpec } from '../functions/start-backup/spec';
import { startRestoreSpec } from '../functions/start-restore/spec';
import { sweepRetentionSpec } from '../functions/sweep-retention/spec';
import {
  DEFAULT_LOCAL_DIR,
  dynamoClient,
  type LocalConfig,
  lambdaClient,
  readLocalConfig,
  s3Client,
} from '../local/clients';
import { UsageError } from './errors';

/** Global flags that choose the target (CLI.md "Targets"). */
export interface TargetFlags {
  /** `--local [DIR]`: a directory, or `true` when given without one. */
  local?: string | boolean;
  stack?: string;
  region?: string;
}

export const DEFAULT_STACK = 'Rewind';

export type TargetChoice =
  | { kind: 'local'; dir: string; why: string }
  | { kind: 'aws'; stack: string; region?: string; why: string };

/** The default local directory: `REWIND_LOCAL_DIR`, else `.rewind`. */
export const defaultLocalDir = (env: Record<string, string | undefined>) =>
  env.REWIND_LOCAL_DIR || DEFAULT_LOCAL_DIR;

/**
 * Which cloud a command talks to, first match:
 * 1. `--local [DIR]` → the local cloud in DIR (default `$REWIND_LOCAL_DIR`, else `.rewind`);
 * 2. `--stack` or `--region` → AWS;
 * 3. `REWIND_LOCAL_DIR` set → the local cloud there;
 * 4. `.rewind/local.json` exists (a local cloud runs here) → that local cloud;
 * 5. otherwise AWS: stack `$REWIND_STACK` or `Rewind`, default credential chain and region.
 */
export function chooseTarget(
  flags: TargetFlags,
  env: Record<string, string | undefined>,
  cwd: string,
  fileExists: (path: string) => boolean = existsSync,
): TargetChoice {
  const awsFlag = flags.stack !== undefined ? '--stack' : flags.region !== undefined ? '--region' : undefined;
  if (flags.local && awsFlag)
    throw new UsageError(`--local and ${awsFlag} choose different targets: give one of them`, '--local');
  if (flags.local) {
    const dir = typeof flags.local === 'string' ? flags.local : defaultLocalDir(env);
    return { kind: 'local', dir: resolve(cwd, dir), why: '--local' };
  }
  const stack = flags.stack ?? (env.REWIND_STACK || DEFAULT_STACK);
  if (awsFlag) return { kind: 'aws', stack, region: flags.region, why: awsFlag };
  if (env.REWIND_LOCAL_DIR)
    return { kind: 'local', dir: resolve(cwd, env.REWIND_LOCAL_DIR), why: 'REWIND_LOCAL_DIR' };
  const here = resolve(cwd, DEFAULT_LOCAL_DIR);
  if (fileExists(join(here, 'local.json')))
    return { kind: 'local', dir: here, why: `${DEFAULT_LOCAL_DIR}/local.json exists` };
  return { kind: 'aws', stack, why: 'default' };
}

/**
 * Rewind's functions the CLI invokes, by logical (local) name, and the stack output naming each
 * on AWS (cdk/rewind-stack.ts; the replica stack has the restore ones).
 */
export const FUNCTION_OUTPUTS: Record<string, string> = {
  [startBackupSpec.name]: 'StartBackupFunctionName',
  [startRestoreSpec.name]: 'StartRestoreFunctionName',
  [restoreResumeSpec.name]: 'ResumeRestoreFunctionName',
  [sweepRetentionSpec.name]: 'SweepRetentionFunctionName',
  [deleteBackupSpec.name]: 'DeleteBackupFunctionName',
};

/**
 * Everything a command needs, the same shape locally and on AWS: one code path of AWS SDK
 * clients, with endpoints from local.json or from the stack outputs.
 */
export interface Target {
  isLocal: boolean;
  /** For messages: "local cloud in /x/.rewind" or "stack Rewind (eu-west-1)". */
  description: string;
  catalog: Catalog;
  /** The catalog table (log and restore catalogs share it with `catalog`). */
  catalogTableName: string;
  store: ObjectStore;
  lambda: LambdaClient;
  dynamodb: DynamoDBClient;
  /** The deployed name of a Rewind function given its logical name (e.g. `start-backup`). */
  functionName(logical: string): string;
  /** The local cloud's config, when local. */
  local?: LocalConfig;
  /** Release the clients' sockets. */
  close(): void;
}

export async function openTarget(choice: TargetChoice): Promise<Target> {
  return choice.kind === 'local' ? openLocal(choice.dir) : openAws(choice.stack, choice.region);
}

async function openLocal(dir: string): Promise<Target> {
  const config = await readLocalConfig(dir);
  const dynamodb = dynamoClient(config);
  const s3 = s3Client(config);
  const lambda = lambdaClient(config);
  return {
    isLocal: true,
    description: `local cloud in ${config.dir}`,
    catalog: new DynamoCatalog(dynamodb, config.catalogTable),
    catalogTableName: config.catalogTable,
    store: new S3ObjectStore(s3, config.bucket),
    lambda,
    dynamodb,
    functionName: (logical) => {
      if (!(logical in FUNCTION_OUTPUTS)) throw new RewindError(`unknown Rewind function ${logical}`);
      return logical;
    },
    local: config,
    close: () => {
      dynamodb.destroy();
      s3.destroy();
      lambda.destroy();
    },
  };
}

/** Stack outputs the CLI reads (cdk/rewind-stack.ts). */
export async function readStackOutputs(stack: string, region?: string): Promise<Record<string, string>> {
  const cloudformation = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs: Record<string, string> = {};
    for (const output of Stacks?.[0]?.Outputs ?? [])
      if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
    return outputs;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/does not exist/.test(message))
      throw new InvalidInputError('--stack', `a deployed Rewind stack: ${message}`, { cause: error });
    if (/region is missing/i.test(message))
      throw new InvalidInputError('--region', 'a region (flag, AWS_REGION or a profile region)', {
        cause: error,
      });
    throw error;
  } finally {
    cloudformation.destroy();
  }
}

async function openAws(stack: string, region?: string): Promise<Target> {
  const outputs = await readStackOutputs(stack, region);
  const output = (key: string) => {
    const value = outputs[key];
    if (!value)
      throw new RewindError(
        `stack ${stack} has no output ${key}: deploy this version of Rewind (cdk deploy)`,
      );
    return value;
  };
  const catalogTableName = output('CatalogTableName');
  const settings = region ? { region } : {};
  const dynamodb = new DynamoDBClient({ ...settings, maxAttempts: 8, retryMode: 'adaptive' });
  const s3 = new S3Client({ ...settings, maxAttempts: 6 });
  const lambda = new LambdaClient(settings);
  return {
    isLocal: false,
    description: `stack ${stack}${region ? ` (${region})` : ''}`,
    catalog: new DynamoCatalog(dynamodb, catalogTableName),
    catalogTableName,
    store: new S3ObjectStore(s3, output('BucketName')),
    lambda,
    dynamodb,
    functionName: (logical) => {
      const key = FUNCTION_OUTPUTS[logical];
      if (!key) throw new RewindError(`unknown Rewind function ${logical}`);
      return output(key);
    },
    close: () => {
      dynamodb.destroy();
      s3.destroy();
      lambda.destroy();
    },
  };
}
