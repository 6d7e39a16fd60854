import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../functions/core/errors';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../functions/core/keys';
import { assertTimeZone, toEventBridgeCron } from './cron';

/**
 * The deployment configuration: which clusters Rewind protects. Read by `cdk/app.ts` from CDK
 * context (see `loadConfig`). Example (`rewind.config.json`):
 *
 * ```json
 * {
 *   "stackName": "Rewind",
 *   "clusters": [
 *     {
 *       "name": "orders",
 *       "tables": ["orders", "order-lines"],
 *       "schedule": { "cron": "15 3 * * *", "timeZone": "Europe/Paris" },
 *       "retentionDays": 14
 *     }
 *   ],
 *   "bucket": { "objectLock": { "mode": "GOVERNANCE", "days": 14 }, "noncurrentVersionDays": 30 }
 * }
 * ```
 *
 * Dual-region backup adds `"region": "eu-west-1", "replicaRegion": "eu-central-1"` (see below).
 */
/** A DynamoDB table name, or a table ARN in the stack's account and region. */
const TABLE =
  /^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;

/** What a cron or time-zone check expected; the issue path already names the field. */
const issueMessage = (error: unknown) =>
  error instanceof InvalidInputError ? error.expected : (error as Error).message;

/** A cron with its time zone: a cluster's automatic backups, or its retention sweep. */
export const scheduleConfig = z
  .object({
    /** 5-field crontab (`15 3 * * *`) or EventBridge cron (`cron(15 3 * * ? *)`); see cdk/cron.ts. */
    cron: z.string().superRefine((value, ctx) => {
      try {
        toEventBridgeCron(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: issueMessage(error) });
      }
    }),
    /** IANA time zone the cron is evaluated in (default UTC); daylight saving is followed. */
    timeZone: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return;
        try {
          assertTimeZone(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: issueMessage(error) });
        }
      }),
  })
  .strict();

export const clusterConfig = z
  .object({
    name: z.string().regex(CLUSTER_NAME, CLUSTER_NAME_RULE),
    tables: z
      .array(z.string().regex(TABLE, 'a DynamoDB table name or table ARN'))
      .min(1)
      .refine((tables) => new Set(tables).size === tables.length, 'tables must not repeat'),
    schedule: scheduleConfig.optional(),
    /**
     * When the daily retention sweep runs (it runs for every cluster). Default `0 3 * * *`;
     * the time zone defaults to the backup schedule's, else UTC.
     */
    retentionSweep: scheduleConfig.optional(),
    /** Automatic backups are kept this many days. */
    retentionDays: z.number().int().positive().default(7),
  })
  .strict();

/** An AWS region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** The replica stack is `<stackName>-replica`: a CloudFormation stack name has at most 128 characters. */
export const REPLICA_STACK_SUFFIX = '-replica';

export const rewindConfig = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name')
      .default('Rewind'),
    /**
     * The stack's region. Optional (the stack is then environment-agnostic, or takes
     * CDK_DEFAULT_REGION); required with `replicaRegion`.
     */
    region: z.string().regex(REGION, 'an AWS region name such as eu-west-1').optional(),
    /**
     * Dual-region backup (off by default): every backup object is replicated to a bucket in this
     * region (S3 CRR with Replication Time Control), the catalog becomes a global table with a
     * replica here, and a replica stack deploys the restore pipeline here. See README "Dual-region".
     */
    replicaRegion: z.string().regex(REGION, 'an AWS region name such as eu-west-2').optional(),
    clusters: z
      .array(clusterConfig)
      .default([])
      .refine(
        (clusters) => new Set(clusters.map((c) => c.name)).size === clusters.length,
        'cluster names must be unique',
      ),
    bucket: z
      .object({
        /** S3 Object Lock default retention (WORM). Enabling it needs a new bucket. */
        objectLock: z
          .object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.number().int().positive() })
          .strict()
          .optional(),
        /** Overwritten or deleted object versions are kept this many days. */
        noncurrentVersionDays: z.number().int().positive().default(30),
      })
      .strict()
      .default({ noncurrentVersionDays: 30 }),
    /**
     * Time margins (ms) several functions must agree on, one value per deployment (both stacks):
     * the clock-skew margin (finalize-snapshot, start-restore, sweep-retention) and the change
     * propagation margin (log backup). See functions/env.ts; unset: the functions' defaults.
     */
    margins: z
      .object({
        skewMs: z.number().int().positive().optional(),
        propagationMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** CloudWatch alarms (cdk/constructs/monitoring.ts), all to one SNS topic. */
    alarms: z
      .object({
        /** Subscribed to the alarm topic (AWS mails a confirmation link first). */
        email: z.email('an e-mail address such as oncall@example.com').optional(),
        /** Alarm when a cluster cannot be restored to within this many seconds of now. */
        rpoSeconds: z.number().int().min(60, 'a whole number of seconds, at least 60').default(600),
        /** Added to the longest gap between scheduled backups before "backup missing" alarms. */
        backupSlackHours: z.number().min(0, 'zero or more hours').default(2),
      })
      .strict()
      .default({ rpoSeconds: 600, backupSlackHours: 2 }),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.replicaRegion === undefined) return;
    if (config.region === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['region'],
        message: 'an explicit stack region: replicaRegion needs one (cross-region references, global table)',
      });
    else if (config.replicaRegion === config.region)
      ctx.addIssue({
        code: 'custom',
        path: ['replicaRegion'],
        message: `a region other than the stack region (${config.region})`,
      });
    if (config.stackName.length + REPLICA_STACK_SUFFIX.length > 128)
      ctx.addIssue({
        code: 'custom',
        path: ['stackName'],
        message: `at most ${128 - REPLICA_STACK_SUFFIX.length} characters with replicaRegion (the replica stack is <stackName>${REPLICA_STACK_SUFFIX})`,
      });
  });

export type ScheduleConfig = z.infer<typeof scheduleConfig>;
export type ClusterConfig = z.infer<typeof clusterConfig>;
export type RewindConfig = z.infer<typeof rewindConfig>;

/** Validate a config object; the error names the source and the first bad field. */
export function parseConfig(raw: unknown, source: string): RewindConfig {
  const result = rewindConfig.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'config';
  throw new InvalidInputError(`${source}: ${field}`, issue?.message ?? 'a valid Rewind config');
}

export const DEFAULT_CONFIG_FILE = 'rewind.config.json';

/** Where the configuration comes from, first match wins. */
export interface ConfigSources {
  /** Context `config`: path of a JSON file (`cdk synth -c config=prod.json`), relative to `cwd`. */
  configPath?: unknown;
  /** Context `rewind`: the config object itself (e.g. in cdk.json / cdk.context.json). */
  inline?: unknown;
  cwd: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(`config file ${path}`, `readable JSON (${(error as Error).message})`);
  }
}

/**
 * Load the configuration: context `config` (a file path), else context `rewind` (an object, or
 * its JSON text when given with `-c rewind='{…}'`), else `rewind.config.json` in `cwd`, else no
 * clusters (the stack still deploys the bucket, catalog and pipeline).
 */
export function loadConfig({ configPath, inline, cwd }: ConfigSources): RewindConfig {
  if (configPath !== undefined) {
    if (typeof configPath !== 'string' || configPath === '')
      throw new InvalidInputError('context config', 'a path to a JSON file');
    const path = resolve(cwd, configPath);
    return parseConfig(readJson(path), path);
  }
  if (inline !== undefined) {
    const raw = typeof inline === 'string' ? JSON.parse(inline) : inline;
    return parseConfig(raw, 'context rewind');
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(fallback)) return parseConfig(readJson(fallback), fallback);
  return parseConfig({}, 'default config');
}
