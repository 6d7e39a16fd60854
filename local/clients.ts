import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { z } from 'zod';
import { withProtoKeyRepair } from '../functions/adapters/proto-key-plugin';
import { RewindError } from '../functions/core/errors';

/** Where `rewind local start` keeps its state unless told otherwise. */
export const DEFAULT_LOCAL_DIR = '.rewind';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/**
 * s3rver accepts exactly one access key, `S3RVER` (its hard-coded dummy account), and answers
 * InvalidAccessKeyId to any other. DynamoDB Local runs with -sharedDb and kinesalite ignores
 * keys, so this one pair serves every local service.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_BUCKET = 'rewind-local-backups';
export const LOCAL_CATALOG_TABLE = 'rewind-catalog';

const endpoint = z.url();

export const localConfigSchema = z.object({
  endpoints: z.object({
    dynamodb: endpoint,
    kinesis: endpoint,
    s3: endpoint,
    lambda: endpoint,
    stepfunctions: endpoint,
  }),
  region: z.string().min(1),
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }),
  bucket: z.string().min(1),
  catalogTable: z.string().min(1),
  /** Absolute path of the local cloud's state folder (holds local.json and s3rver's data). */
  dir: z.string().min(1),
  /** Process running the local cloud, when it runs in its own process. */
  pid: z.number().int().positive().optional(),
  /**
   * What the control plane runs: the TypeScript sources in-process, or (`--bundled`) the
   * functions' esbuild bundles in worker threads, built into `bundleDir`.
   */
  functions: z.enum(['sources', 'bundled']).optional(),
  bundleDir: z.string().min(1).optional(),
});

export type LocalConfig = z.infer<typeof localConfigSchema>;
export type LocalEndpoints = LocalConfig['endpoints'];

/** The part of a LocalConfig one client needs; a full LocalConfig always fits. */
export type ClientSettings<K extends keyof LocalEndpoints> = Pick<LocalConfig, 'region' | 'credentials'> & {
  endpoints: Pick<LocalEndpoints, K>;
};

/** Per-client tuning; readiness probes use one attempt and short timeouts. */
export interface ClientTuning {
  maxAttempts?: number;
  requestTimeoutMs?: number;
}

// Emulators on a busy 2-core machine throttle and stall now and then: retry a little more.
const DATA_PLANE_ATTEMPTS = 5;
const CONTROL_PLANE_ATTEMPTS = 3;

function base(
  cfg: Pick<LocalConfig, 'region' | 'credentials'>,
  url: string,
  attempts: number,
  t?: ClientTuning,
) {
  return {
    region: cfg.region,
    credentials: { ...cfg.credentials },
    endpoint: url,
    maxAttempts: t?.maxAttempts ?? attempts,
    ...(t?.requestTimeoutMs
      ? {
          requestHandler: new NodeHttpHandler({
            connectionTimeout: t.requestTimeoutMs,
            requestTimeout: t.requestTimeoutMs,
            // Without this, smithy only logs a warning and keeps waiting.
            throwOnRequestTimeout: true,
          }),
        }
      : {}),
  };
}

/** DynamoDB and DynamoDB Streams clients carry the `__proto__` repair (proto-key-plugin.ts). */
export function dynamoClient(cfg: ClientSettings<'dynamodb'>, tuning?: ClientTuning): DynamoDBClient {
  return withProtoKeyRepair(
    new DynamoDBClient(base(cfg, cfg.endpoints.dynamodb, DATA_PLANE_ATTEMPTS, tuning)),
  );
}

/** DynamoDB Local serves its Streams API on the DynamoDB endpoint. */
export function streamsClient(cfg: ClientSettings<'dynamodb'>, tuning?: ClientTuning): DynamoDBStreamsClient {
  return withProtoKeyRepair(
    new DynamoDBStreamsClient(base(cfg, cfg.endpoints.dynamodb, DATA_PLANE_ATTEMPTS, tuning)),
  );
}

export function s3Client(cfg: ClientSettings<'s3'>, tuning?: ClientTuning): S3Client {
  return new S3Client({
    ...base(cfg, cfg.endpoints.s3, DATA_PLANE_ATTEMPTS, tuning),
    forcePathStyle: true,
    // With the SDK's default checksums, streamed uploads go out aws-chunked and s3rver stores
    // the chunk framing inside the object: silent corruption (LOCAL-STACK.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function kinesisClient(cfg: ClientSettings<'kinesis'>, tuning?: ClientTuning): KinesisClient {
  const settings = base(cfg, cfg.endpoints.kinesis, DATA_PLANE_ATTEMPTS, tuning);
  // The Kinesis client defaults to HTTP/2, which kinesalite does not speak ("Protocol error").
  return new KinesisClient({
    ...settings,
    requestHandler: settings.requestHandler ?? new NodeHttpHandler(),
  });
}

export function lambdaClient(cfg: ClientSettings<'lambda'>, tuning?: ClientTuning): LambdaClient {
  return new LambdaClient(base(cfg, cfg.endpoints.lambda, CONTROL_PLANE_ATTEMPTS, tuning));
}

export function sfnClient(cfg: ClientSettings<'stepfunctions'>, tuning?: ClientTuning): SFNClient {
  return new SFNClient(base(cfg, cfg.endpoints.stepfunctions, CONTROL_PLANE_ATTEMPTS, tuning));
}

/** Raised when local.json is absent: nothing runs the local cloud in this folder. */
export class LocalCloudNotRunningError extends RewindError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`local cloud not running: run \`rewind local start\` (no ${path})`, options);
  }
}

/** local.json exists but is not a LocalConfig (hand-edited, or written by another version). */
export class InvalidLocalConfigError extends RewindError {
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`invalid local cloud config ${path}: ${problem}`, options);
  }
}

export function localConfigPath(dir: string = DEFAULT_LOCAL_DIR): string {
  return join(resolve(dir), 'local.json');
}

export async function readLocalConfig(dir: string = DEFAULT_LOCAL_DIR): Promise<LocalConfig> {
  const path = localConfigPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LocalCloudNotRunningError(path);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidLocalConfigError(path, 'not JSON', { cause: err });
  }
  const parsed = localConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidLocalConfigError(path, `${issue?.path.join('.') || 'root'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Write `<cfg.dir>/local.json` atomically, so a reader never sees half a file. */
export async function writeLocalConfig(cfg: LocalConfig): Promise<string> {
  const valid = localConfigSchema.parse(cfg);
  const path = localConfigPath(valid.dir);
  await mkdir(valid.dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(valid, null, 2)}\n`);
  await rename(tmp, path);
  return path;
}

export async function removeLocalConfig(dir: string = DEFAULT_LOCAL_DIR): Promise<void> {
  await rm(localConfigPath(dir), { force: true });
}
