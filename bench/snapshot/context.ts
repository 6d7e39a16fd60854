import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import type { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { prepareSnapshotSpec } from '../../functions/prepare-snapshot/spec';
import { scanSegmentSpec } from '../../functions/scan-segment/spec';
import { parseEnv } from '../../functions/spec';
import type { LocalConfig, lambdaClient } from '../../local/clients';
import type { LocalCloud } from '../../local/cloud';
import { type LocalFunctionOverrides, localEnvironment, localTimeoutMs } from '../../local/functions';
import { type CpuSplit, cpuMeter, type SendTimer } from '../support';

/** What every part of the snapshot benchmark shares: names, the measured variants, one run's record. */

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const RESULT_PATH = join(ROOT, '.bench', 'snapshot.json');
export const CLUSTER = 'bench';
/** Holds the small table; the warm-up runs the pipeline on it. */
export const WARM_CLUSTER = 'bench-warm';

export type VariantId = 'baseline' | 'serialize' | 'gzip' | 'scanPhase' | 'pipeline';

export const VARIANT_LABEL: Record<VariantId, string> = {
  baseline: 'A baseline: bare parallel Scan',
  serialize: 'B Scan + export lines (JSON)',
  gzip: 'C B + gzip-1 + SHA-256, no S3',
  scanPhase: 'D scan phase: scan-segment run()',
  pipeline: 'E pipeline: Invoke -> COMPLETED',
};

/** One timed run of one variant. */
export interface Measurement {
  variant: VariantId;
  round: number;
  seconds: number;
  items: number;
  /** Export-line bytes (`{"Item":…}\n`), counted by the variant itself where it builds them. */
  rawBytes?: number;
  storedBytes?: number;
  cpu: CpuSplit;
  /** Time inside DynamoDB `send()` summed over segments, and the request count. */
  scanSendSeconds?: number;
  scanRequests?: number;
  /** scan phase: per chunk upload, how long after the gzip stream ended the object was durable. */
  uploadTailSeconds?: number[];
  backupId?: string;
  /**
   * pipeline: invoke → startTs (start-backup, state machine start, prepare), startTs → endTs
   * (the Map of segment scans), endTs → COMPLETED (finalize), from the catalog's timestamps.
   */
  phases?: { prepare: number; scans: number; finalize: number };
}

/**
 * The snapshot settings the local functions run with (their specs parsing the local environment,
 * with the bench's overrides), for the variants that call the same code directly.
 */
export function benchSettings(cfg: LocalConfig, overrides: LocalFunctionOverrides = {}) {
  const prepare = parseEnv(prepareSnapshotSpec.env, localEnvironment(prepareSnapshotSpec, cfg, overrides));
  const scan = parseEnv(scanSegmentSpec.env, localEnvironment(scanSegmentSpec, cfg, overrides));
  return {
    targetBytesPerSegment: prepare.SEGMENT_TARGET_BYTES,
    minSegments: prepare.MIN_SEGMENTS,
    maxSegments: prepare.MAX_SEGMENTS,
    maxConcurrency: prepare.MAP_MAX_CONCURRENCY,
    chunkMaxRawBytes: scan.CHUNK_MAX_RAW_BYTES,
    timeReserveMs: scan.TIME_RESERVE_MS,
    pageLimit: scan.SCAN_PAGE_LIMIT,
    /** scan-segment's local timeout: its LastEvaluatedKey loop starts below it. */
    segmentTimeLimitMs: localTimeoutMs(scanSegmentSpec, overrides),
  };
}
export type BenchSettings = ReturnType<typeof benchSettings>;

/** The table-independent setup every variant runs with, so all compare on equal terms. */
export interface Context {
  cloud: LocalCloud;
  segments: number;
  concurrency: number;
  scanClient: DynamoDBClient;
  scanTimer: SendTimer;
  store: S3ObjectStore;
  catalog: DynamoCatalog;
  plane: PipelinePlane;
  settings: BenchSettings;
  tag: () => string;
}

/** Where the pipeline variant invokes start-backup and waits for its execution to end. */
export interface PipelinePlane {
  lambda: ReturnType<typeof lambdaClient>;
  waitForIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** Time `body` and the CPU it (and the emulators) used, with the Scan requests it sent. */
export async function measure(
  ctx: Context,
  variant: VariantId,
  round: number,
  body: () => Promise<Omit<Measurement, 'variant' | 'round' | 'seconds' | 'cpu'>>,
): Promise<Measurement> {
  ctx.scanTimer.reset();
  const cpu = cpuMeter(ctx.cloud.emulators.pids);
  const t0 = performance.now();
  const result = await body();
  const seconds = (performance.now() - t0) / 1000;
  const used = cpu();
  return {
    variant,
    round,
    seconds,
    cpu: used,
    ...(ctx.scanTimer.requests > 0
      ? { scanSendSeconds: ctx.scanTimer.seconds, scanRequests: ctx.scanTimer.requests }
      : {}),
    ...result,
  };
}
