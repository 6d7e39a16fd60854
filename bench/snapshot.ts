/**
 * `npm run bench:snapshot` — snapshot throughput against a bare parallel Scan measured in the same
 * run, and the peak RSS of one segment worker at two table sizes. Prints ratios, never asserts
 * on time: machines are noisy, ratios against a same-run baseline are what carry over.
 *
 *   --items N       (BENCH_ITEMS, default 50000)   items of demoItem('orders', i) in the main table
 *   --rounds N      (BENCH_ROUNDS, default 3)      measured rounds; medians are reported
 *   --rss-small N   (BENCH_RSS_SMALL, default items/5) items of the small table for the RSS pair
 *   --breakdown 0|1 (BENCH_BREAKDOWN, default 0)   also time Scan+serialize and Scan+serialize+gzip
 *   --rss 0|1       (BENCH_RSS, default 1)         measure the segment worker's peak RSS
 * Diagnostics (change the local function settings for every variant, the pipeline included,
 * which then runs on a private control plane; the baseline follows, so ratios stay fair):
 *   --page-limit N  (BENCH_PAGE_LIMIT)  Scan Limit (default: the local setting, none = 1 MB pages)
 *   --min-segments N (BENCH_MIN_SEGMENTS) at least N segments per table (default 2 x cores)
 *
 * Progress goes to stderr, the report to stdout, and the full result to .bench/snapshot.json.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import type { ObjectStore } from '../functions/adapters/object-store';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import { describeTable } from '../functions/adapters/table-schemas';
import { CATALOG_SCHEMA_VERSION } from '../functions/core/catalog-model';
import { exportLine, fromSdkItem } from '../functions/core/dynamo-json';
import { partReportKey } from '../functions/core/keys';
import { partReport } from '../functions/core/manifest';
import { chooseSegmentCount } from '../functions/core/segments';
import { startBackupFunction } from '../functions/env';
import { run as scanSegment } from '../functions/scan-segment/run';
import { dynamoClient, type LocalConfig, lambdaClient, s3Client } from '../local/clients';
import { type LocalCloud, rewindCloudOptions, startLocalCloud } from '../local/cloud';
import { type LocalFunctionRegistry, startControlPlane } from '../local/control-plane';
import {
  createLocalFunctions,
  defaultLocalSettings,
  type LocalFunctionSettings,
  localStateMachines,
} from '../local/functions';
import {
  compareItemSets,
  readManifest,
  type SetComparison,
  setsMatch,
  snapshotItems,
  tableItems,
} from '../local/snapshot-check';
import { createDemoTable, demoItem, loadItems, range } from '../local/workload';
import type { SegmentWorkerResult } from './segment-worker';
import {
  type CpuSplit,
  cpuMeter,
  fmt,
  fmtInt,
  intSetting,
  MB,
  median,
  pool,
  processName,
  renderTable,
  type SendTimer,
  timeSends,
} from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = resolve(import.meta.dirname, '..');
const RESULT_PATH = join(ROOT, '.bench', 'snapshot.json');
const CLUSTER = 'bench';
/** Holds the small table; the warm-up runs the pipeline on it. */
const WARM_CLUSTER = 'bench-warm';
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

type VariantId = 'baseline' | 'serialize' | 'gzip' | 'scanPhase' | 'pipeline';

const VARIANT_LABEL: Record<VariantId, string> = {
  baseline: 'A baseline: bare parallel Scan',
  serialize: 'B Scan + export lines (JSON)',
  gzip: 'C B + gzip-1 + SHA-256, no S3',
  scanPhase: 'D scan phase: scan-segment run()',
  pipeline: 'E pipeline: Invoke -> COMPLETED',
};

interface Measurement {
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

interface Context {
  cloud: LocalCloud;
  segments: number;
  concurrency: number;
  scanClient: DynamoDBClient;
  scanTimer: SendTimer;
  store: S3ObjectStore;
  catalog: DynamoCatalog;
  plane: PipelinePlane;
  settings: LocalFunctionSettings;
  tag: () => string;
}

// ---------------------------------------------------------------------------------------------
// Variants. A–C reproduce the worker's loop step by step (same Scan parameters, same segment
// count and concurrency, same client settings); D is the real worker; E is the real pipeline.

async function scanPages(
  ctx: Context,
  table: string,
  onPage: (segment: number, items: Record<string, unknown>[]) => Promise<void> | void,
): Promise<number> {
  let items = 0;
  await pool(ctx.segments, ctx.concurrency, async (segment) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ctx.scanClient.send(
        new ScanCommand({
          TableName: table,
          Segment: segment,
          TotalSegments: ctx.segments,
          ExclusiveStartKey: startKey as never,
          ConsistentRead: true,
          Limit: ctx.settings.pageLimit,
        }),
      );
      const pageItems = page.Items ?? [];
      items += pageItems.length;
      await onPage(segment, pageItems);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  });
  return items;
}

async function measure(
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

const baseline = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'baseline', round, async () => ({ items: await scanPages(ctx, table, () => undefined) }));

const serialize = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'serialize', round, async () => {
    let rawBytes = 0;
    const items = await scanPages(ctx, table, (_segment, pageItems) => {
      let text = '';
      for (const item of pageItems) text += exportLine(fromSdkItem(item));
      rawBytes += Buffer.byteLength(text);
    });
    return { items, rawBytes };
  });

/** Like ChunkWriter without the upload: gzip level 1 → SHA-256 + byte count → discarded. */
const gzipOnly = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'gzip', round, async () => {
    let rawBytes = 0;
    let storedBytes = 0;
    const streams = Array.from({ length: ctx.segments }, () => {
      const gzip = createGzip({ level: 1 });
      const hash = createHash('sha256');
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          storedBytes += chunk.length;
          callback();
        },
      });
      gzip.pipe(sink);
      return { gzip, sink, hash };
    });
    const items = await scanPages(ctx, table, async (segment, pageItems) => {
      const stream = streams[segment];
      if (!stream || pageItems.length === 0) return;
      let text = '';
      for (const item of pageItems) text += exportLine(fromSdkItem(item));
      rawBytes += Buffer.byteLength(text);
      if (!stream.gzip.write(text)) await once(stream.gzip, 'drain');
    });
    await Promise.all(
      streams.map(async ({ gzip, sink, hash }) => {
        gzip.end();
        await once(sink, 'finish');
        hash.digest('hex');
      }),
    );
    return { items, rawBytes, storedBytes };
  });

/** The store the scan phase hands the worker: the real one, plus timing of each upload's tail. */
function timedStore(store: ObjectStore, tails: number[]): ObjectStore {
  return {
    put: (key, body, contentType) => store.put(key, body, contentType),
    upload: async (key, body: Readable, contentType) => {
      let ended: number | undefined;
      body.once('end', () => {
        ended = performance.now();
      });
      await store.upload(key, body, contentType);
      tails.push((performance.now() - (ended ?? performance.now())) / 1000);
    },
    get: (key) => store.get(key),
    getStream: (key) => store.getStream(key),
    exists: (key) => store.exists(key),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
  };
}

async function scanPhase(ctx: Context, table: string, round: number): Promise<Measurement> {
  const backupId = `scan-phase-${ctx.tag()}`;
  const prefix = `v1/${CLUSTER}/snapshots/${backupId}/`;
  const tails: number[] = [];
  const store = timedStore(ctx.store, tails);
  const m = await measure(ctx, 'scanPhase', round, async () => {
    const deadline = Date.now() + ctx.settings.segmentTimeLimitMs;
    const outputs = await pool(ctx.segments, ctx.concurrency, (segment) =>
      scanSegment(
        { cluster: CLUSTER, backupId, snapshotPrefix: prefix, table, segment, totalSegments: ctx.segments },
        {
          dynamodb: ctx.scanClient,
          store,
          remainingMs: () => deadline - Date.now(),
          config: {
            chunkMaxRawBytes: ctx.settings.chunkMaxRawBytes,
            timeReserveMs: ctx.settings.timeReserveMs,
            pageLimit: ctx.settings.pageLimit,
          },
        },
      ),
    );
    if (outputs.some((o) => !o.done)) throw new Error('scan phase: a segment did not finish');
    return { items: outputs.reduce((n, o) => n + o.items, 0), uploadTailSeconds: tails, backupId };
  });
  // Bytes from the part reports the worker wrote (outside the timed section).
  let rawBytes = 0;
  let storedBytes = 0;
  for (let segment = 0; segment < ctx.segments; segment++) {
    const report = partReport.parse(
      JSON.parse((await ctx.store.get(partReportKey(prefix, table, segment, 0))).toString('utf8')),
    );
    for (const chunk of report.chunks) {
      rawBytes += chunk.rawBytes;
      storedBytes += chunk.storedBytes;
    }
  }
  return { ...m, rawBytes, storedBytes };
}

interface PipelinePlane {
  lambda: ReturnType<typeof lambdaClient>;
  waitForIdle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The control plane the pipeline runs on: the local cloud's own (the real local path), or, when
 * settings are overridden, a private one on the same emulators whose functions use them (the
 * pattern of test/support/cloud.ts privateControlPlane).
 */
async function pipelinePlane(
  cloud: LocalCloud,
  overrides: Partial<LocalFunctionSettings>,
): Promise<PipelinePlane> {
  const cfg = cloud.config;
  if (Object.keys(overrides).length === 0) {
    const lambda = lambdaClient(cfg);
    return {
      lambda,
      waitForIdle: () => cloud.controlPlane.waitForIdle(),
      stop: async () => lambda.destroy(),
    };
  }
  const functions: LocalFunctionRegistry = {};
  const plane = await startControlPlane({
    functions,
    stateMachines: localStateMachines(),
    region: cfg.region,
  });
  const own: LocalConfig = {
    ...cfg,
    endpoints: { ...cfg.endpoints, lambda: plane.endpoint, stepfunctions: plane.endpoint },
  };
  Object.assign(functions, createLocalFunctions(own, overrides));
  const lambda = lambdaClient(own);
  return {
    lambda,
    waitForIdle: () => plane.waitForIdle(),
    stop: async () => {
      lambda.destroy();
      await plane.stop();
    },
  };
}

async function pipeline(ctx: Context, cluster: string, round: number): Promise<Measurement> {
  let invokedAt = 0;
  let idleAt = 0;
  const m = await measure(ctx, 'pipeline', round, async () => {
    invokedAt = Date.now();
    const response = await ctx.plane.lambda.send(
      new InvokeCommand({
        FunctionName: startBackupFunction.name,
        Payload: new TextEncoder().encode(JSON.stringify({ cluster, kind: 'manual' })),
      }),
    );
    const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    if (response.FunctionError) throw new Error(`start-backup failed: ${text}`);
    const { backupId } = JSON.parse(text) as { backupId: string };
    // The execution is registered before start-backup returns; idle = it has finished.
    await ctx.plane.waitForIdle();
    idleAt = Date.now();
    return { items: 0, backupId };
  });
  const backup = await ctx.catalog.getBackup(cluster, m.backupId ?? '');
  if (backup?.status !== 'COMPLETED')
    throw new Error(`backup ${m.backupId} ended ${backup?.status}: ${JSON.stringify(backup?.failure)}`);
  const startMs = (backup.startTs ?? 0) / 1000;
  const endMs = (backup.endTs ?? 0) / 1000;
  return {
    ...m,
    items: backup.items,
    rawBytes: backup.rawBytes,
    storedBytes: backup.storedBytes,
    phases: {
      prepare: (startMs - invokedAt) / 1000,
      scans: (endMs - startMs) / 1000,
      finalize: (idleAt - endMs) / 1000,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU cost of each step of the worker, single thread, no I/O: where a worker's CPU would go.

interface StepCost {
  step: string;
  /** Raw (export-line) MB processed per CPU second, best of 3. */
  rawMBps: number;
  outBytes?: number;
}

function cpuCosts(count: number): { rawBytes: number; steps: StepCost[] } {
  const items = Array.from(range(count), (i) => demoItem('orders', i) as Record<string, unknown>);
  const best = (fn: () => void) => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      fn();
      const used = process.cpuUsage(t0);
      min = Math.min(min, (used.user + used.system) / 1e6);
    }
    return min;
  };
  let text = '';
  const serializeSeconds = best(() => {
    text = '';
    for (const item of items) text += exportLine(fromSdkItem(item));
    Buffer.byteLength(text);
  });
  const raw = Buffer.from(text);
  const steps: StepCost[] = [
    { step: 'export lines (exportLine per item)', rawMBps: raw.length / MB / serializeSeconds },
  ];
  for (const level of [1, 6]) {
    let out = Buffer.alloc(0);
    const seconds = best(() => {
      out = gzipSync(raw, { level });
    });
    steps.push({ step: `gzip level ${level}`, rawMBps: raw.length / MB / seconds, outBytes: out.length });
  }
  const gz = gzipSync(raw, { level: 1 });
  const shaSeconds = best(() => {
    createHash('sha256').update(gz).digest('hex');
  });
  steps.push({ step: 'SHA-256 of the gzip-1 output', rawMBps: raw.length / MB / shaSeconds });
  return { rawBytes: raw.length, steps };
}

// ---------------------------------------------------------------------------------------------
// Segment worker RSS, each in a fresh child process.

let currentChild: ReturnType<typeof spawn> | undefined;

async function segmentWorkerChild(
  mode: 'idle' | 'worker',
  dir: string,
  table: string,
  prefix: string,
  pageLimit: number | undefined,
  nodeOptions: string[] = [],
): Promise<SegmentWorkerResult> {
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      '--import',
      'tsx',
      join(ROOT, 'bench', 'segment-worker.ts'),
      mode,
      dir,
      table,
      prefix,
      String(pageLimit ?? 0),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  currentChild = child;
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-2000);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  currentChild = undefined;
  if (code !== 0)
    throw new Error(
      `segment worker (${mode} ${nodeOptions.join(' ')}) exited with ${signal ?? `code ${code}`}: ` +
        (err.trim().split('\n').slice(-3).join(' | ') || '(no output)'),
    );
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as SegmentWorkerResult;
}

// ---------------------------------------------------------------------------------------------

interface Summary {
  variant: VariantId;
  label: string;
  runs: number;
  secondsMedian: number;
  secondsAll: number[];
  itemsPerSecond: number;
  rawMBps: number;
  storedMBps?: number;
  compression?: number;
  ratioVsBaseline: number;
  /** Median of the per-round ratios baseline-seconds / variant-seconds (paired, same round). */
  pairedRatioMedian: number;
  cpuMedian: CpuSplit;
  scanWaitShare?: number;
}

function summarize(
  variant: VariantId,
  runs: Measurement[],
  baselineRuns: Measurement[],
  tableRawBytes: number,
  items: number,
  concurrency: number,
): Summary {
  const seconds = median(runs.map((r) => r.seconds));
  const baseSeconds = median(baselineRuns.map((r) => r.seconds));
  const stored = runs.map((r) => r.storedBytes).filter((b): b is number => b !== undefined);
  const paired = runs
    .map((r) => {
      const base = baselineRuns.find((b) => b.round === r.round);
      return base ? base.seconds / r.seconds : Number.NaN;
    })
    .filter(Number.isFinite);
  const shares = runs
    .filter((r) => r.scanSendSeconds !== undefined)
    .map((r) => (r.scanSendSeconds ?? 0) / (r.seconds * concurrency));
  const storedMedian = stored.length ? median(stored) : undefined;
  return {
    variant,
    label: VARIANT_LABEL[variant],
    runs: runs.length,
    secondsMedian: seconds,
    secondsAll: runs.map((r) => r.seconds),
    itemsPerSecond: items / seconds,
    rawMBps: tableRawBytes / MB / seconds,
    ...(storedMedian !== undefined
      ? { storedMBps: storedMedian / MB / seconds, compression: tableRawBytes / storedMedian }
      : {}),
    ratioVsBaseline: baseSeconds / seconds,
    pairedRatioMedian: median(paired),
    cpuMedian: {
      node: median(runs.map((r) => r.cpu.node)),
      dynamodb: median(runs.map((r) => r.cpu.dynamodb)),
      s3: median(runs.map((r) => r.cpu.s3)),
    },
    ...(shares.length ? { scanWaitShare: median(shares) } : {}),
  };
}

async function main(): Promise<void> {
  const items = intSetting('items', 'BENCH_ITEMS', 50_000);
  const rounds = Math.max(1, intSetting('rounds', 'BENCH_ROUNDS', 3));
  const rssSmall = intSetting('rss-small', 'BENCH_RSS_SMALL', Math.max(1, Math.round(items / 5)));
  const breakdown = intSetting('breakdown', 'BENCH_BREAKDOWN', 0) !== 0;
  const measureRss = intSetting('rss', 'BENCH_RSS', 1) !== 0;
  const pageLimit = intSetting('page-limit', 'BENCH_PAGE_LIMIT', 0);
  const minSegments = intSetting('min-segments', 'BENCH_MIN_SEGMENTS', 0);
  const overrides: Partial<LocalFunctionSettings> = {
    ...(pageLimit > 0 ? { pageLimit } : {}),
    ...(minSegments > 0 ? { minSegments } : {}),
  };
  if (items < 1) throw new Error('--items must be at least 1');

  const started = Date.now();
  const loadavgAtStart = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'rewind-bench-'));
  let cloud: LocalCloud | undefined;
  let plane: PipelinePlane | undefined;
  const clients: { destroy(): void }[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      currentChild?.kill('SIGKILL');
      for (const client of clients) client.destroy();
      await plane?.stop().catch((e: unknown) => log(`stopping the control plane: ${String(e)}`));
      await cloud?.stop().catch((e: unknown) => log(`stopping the local cloud: ${String(e)}`));
      await rm(dir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  let interrupted = false;
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C reaches us twice (the process group, and tsx relaying it): only a repeat a
    // second later means "stop waiting for the clean-up".
    if (interrupted) {
      if (Date.now() - interruptedAt > 1_000) process.exit(130);
      return;
    }
    interrupted = true;
    interruptedAt = Date.now();
    log(`${signal}: stopping the local cloud`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    log(`starting local cloud in ${dir}`);
    cloud = await startLocalCloud(await rewindCloudOptions(dir));
    const cfg = cloud.config;
    const settings: LocalFunctionSettings = { ...defaultLocalSettings(), ...overrides };
    plane = await pipelinePlane(cloud, overrides);
    const loader = dynamoClient(cfg);
    const scanClient = dynamoClient(cfg);
    const s3 = s3Client(cfg);
    clients.push(loader, scanClient, s3);
    const store = new S3ObjectStore(s3, cfg.bucket);
    const catalog = new DynamoCatalog(loader, cfg.catalogTable);

    const mainTable = 'bench-orders';
    const smallTable = 'bench-orders-small';
    for (const [table, count] of [
      [mainTable, items],
      [smallTable, rssSmall],
    ] as const) {
      await createDemoTable(loader, table, 'orders');
      const t0 = performance.now();
      await loadItems(
        loader,
        table,
        (function* () {
          for (const i of range(count)) yield demoItem('orders', i);
        })(),
        { concurrency: 8 },
      );
      log(`loaded ${fmtInt(count)} items into ${table} in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }
    for (const [clusterName, table] of [
      [CLUSTER, mainTable],
      [WARM_CLUSTER, smallTable],
    ] as const) {
      await catalog.putCluster({
        schemaVersion: CATALOG_SCHEMA_VERSION,
        clusterName,
        tables: [table],
        retentionDays: 7,
        createdAt: new Date().toISOString(),
      });
    }

    // The pipeline's own choice (prepare-snapshot: chooseSegmentCount with the local settings);
    // checked against every manifest below.
    const tableSizeBytes = (await describeTable(loader, mainTable)).TableSizeBytes ?? 0;
    const segments = chooseSegmentCount(tableSizeBytes, settings);
    const concurrency = Math.min(segments, settings.maxConcurrency);
    let seq = 0;
    const scanTimer = timeSends(scanClient);
    const ctx: Context = {
      cloud,
      segments,
      concurrency,
      scanClient,
      scanTimer,
      store,
      catalog,
      plane,
      settings,
      tag: () => `${Date.now().toString(36)}-${seq++}`,
    };

    const variants: VariantId[] = breakdown
      ? ['baseline', 'serialize', 'gzip', 'scanPhase', 'pipeline']
      : ['baseline', 'scanPhase', 'pipeline'];
    const runVariant = (variant: VariantId, table: string, round: number): Promise<Measurement> => {
      switch (variant) {
        case 'baseline':
          return baseline(ctx, table, round);
        case 'serialize':
          return serialize(ctx, table, round);
        case 'gzip':
          return gzipOnly(ctx, table, round);
        case 'scanPhase':
          return scanPhase(ctx, table, round);
        case 'pipeline':
          return pipeline(ctx, table === mainTable ? CLUSTER : WARM_CLUSTER, round);
      }
    };

    // Warm-up (JIT of this process and of DynamoDB Local's JVM): every variant once on the small
    // table. Not reported.
    log('warm-up on the small table');
    for (const variant of variants) await runVariant(variant, smallTable, 0);

    // Measured rounds: every variant once per round, the order rotated each round so no variant
    // always runs right after the same neighbour.
    const measurements: Measurement[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round - 1) % variants.length] as VariantId);
      for (const variant of order) {
        const m = await runVariant(variant, mainTable, round);
        if (m.items !== items)
          throw new Error(`${variant} round ${round}: ${m.items} items, table has ${items}`);
        measurements.push(m);
        log(`round ${round} ${variant.padEnd(9)} ${fmt(m.seconds, 2)} s`);
      }
    }

    // Raw bytes of the table = bytes of its export lines; every variant that builds them must agree.
    const rawCounts = new Set(measurements.map((m) => m.rawBytes).filter((b) => b !== undefined));
    if (rawCounts.size !== 1) throw new Error(`variants disagree on raw bytes: ${[...rawCounts].join(', ')}`);
    const tableRawBytes = [...rawCounts][0] ?? 0;

    // Correctness: the last pipeline snapshot holds exactly the table's items.
    const lastBackup = measurements.filter((m) => m.variant === 'pipeline').pop();
    const backup = await catalog.getBackup(CLUSTER, lastBackup?.backupId ?? '');
    const manifest = await readManifest(store, backup?.manifestKey ?? '');
    const manifestSegments = manifest.tables[0]?.segments;
    if (manifestSegments !== segments)
      throw new Error(`pipeline used ${manifestSegments} segments, baseline ${segments}`);
    log('verifying the last pipeline snapshot against the table');
    const comparison: SetComparison = compareItemSets(
      await tableItems(loader, mainTable, segments),
      await snapshotItems(store, manifest, mainTable),
    );
    const verified = setsMatch(comparison) && comparison.expected === items;

    // Peak RSS of one worker (TotalSegments 1), a fresh process each.
    let rss:
      | {
          idle: SegmentWorkerResult;
          small: SegmentWorkerResult;
          large: SegmentWorkerResult;
          /** The large table again, V8 old space capped at the small run's peak heap. */
          capped: { capMb: number; result?: SegmentWorkerResult; failure?: string };
        }
      | undefined;
    if (measureRss) {
      log('segment worker RSS: idle, small, large, large with a capped heap (one child process each)');
      const child = (mode: 'idle' | 'worker', table: string, name: string, nodeOptions: string[] = []) =>
        segmentWorkerChild(
          mode,
          cfg.dir,
          table,
          `v1/${CLUSTER}/snapshots/${name}/`,
          settings.pageLimit,
          nodeOptions,
        );
      const idle = await child('idle', smallTable, 'rss-idle');
      const small = await child('worker', smallTable, 'rss-small');
      const large = await child('worker', mainTable, 'rss-large');
      if (small.items !== rssSmall || large.items !== items)
        throw new Error(`RSS workers scanned ${small.items} / ${large.items} items`);
      // A peak that grows with the table could be garbage the GC had not collected yet or data
      // held: if the large table completes in the heap the small one peaked at, it is the former.
      const capMb = Math.ceil(small.sampledPeakKb.heapUsed / 1024);
      const capped: { capMb: number; result?: SegmentWorkerResult; failure?: string } = { capMb };
      try {
        capped.result = await child('worker', mainTable, 'rss-capped', [`--max-old-space-size=${capMb}`]);
        if (capped.result.items !== items) capped.failure = `scanned ${capped.result.items} items`;
      } catch (error) {
        capped.failure = (error as Error).message;
      }
      rss = { idle, small, large, capped };
    }

    log('CPU cost per step (in process, single thread)');
    const costs = cpuCosts(Math.min(items, 10_000));

    // ------------------------------------------------------------------------------- report
    const baselineRuns = measurements.filter((m) => m.variant === 'baseline');
    const summaries = variants.map((v) =>
      summarize(
        v,
        measurements.filter((m) => m.variant === v),
        baselineRuns,
        tableRawBytes,
        items,
        concurrency,
      ),
    );
    const pipelineRuns = measurements.filter((m) => m.variant === 'pipeline');
    const phase = (key: 'prepare' | 'scans' | 'finalize') =>
      median(pipelineRuns.map((m) => m.phases?.[key] ?? Number.NaN));
    const phases = { prepare: phase('prepare'), scans: phase('scans'), finalize: phase('finalize') };
    const tails = measurements.flatMap((m) => m.uploadTailSeconds ?? []);
    const nproc = availableParallelism();
    const pids = cloud.emulators.pids;
    const facts = {
      date: new Date().toISOString(),
      node: process.version,
      nproc,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGB: totalmem() / 1024 ** 3,
      freeMemoryGBAtEnd: freemem() / 1024 ** 3,
      loadavgAtStart,
      loadavgAtEnd: loadavg(),
      emulatorProcesses: { dynamodb: processName(pids.dynamodb), s3: processName(pids.s3) },
    };
    const goal = 0.8;

    const out: string[] = [];
    out.push('Rewind snapshot benchmark (npm run bench:snapshot)');
    out.push(
      `machine: nproc ${nproc}, ${facts.cpuModel}, ${fmt(facts.memoryGB, 1)} GB RAM, node ${process.version}; ` +
        `load avg ${facts.loadavgAtStart.map((l) => fmt(l, 1)).join(' ')} at start, ` +
        `${facts.loadavgAtEnd.map((l) => fmt(l, 1)).join(' ')} at end`,
    );
    out.push(
      `table: ${fmtInt(items)} items of demoItem('orders', i), raw ${fmt(tableRawBytes / MB)} MB ` +
        `(${fmt(tableRawBytes / items, 0)} B/item; raw = UTF-8 bytes of the {"Item":…}\\n export lines, ` +
        `counted as ChunkWriter counts them), DynamoDB TableSizeBytes ${fmt(tableSizeBytes / MB)} MB`,
    );
    out.push(
      `segments ${segments} (prepare-snapshot's choice, checked in the manifest), concurrency ${concurrency}, ` +
        `ConsistentRead, page limit ${settings.pageLimit ?? 'none (1 MB pages)'}, chunk bound ` +
        `${fmt(settings.chunkMaxRawBytes / MB, 0)} MB raw` +
        (Object.keys(overrides).length ? `; overridden settings ${JSON.stringify(overrides)}` : ''),
    );
    out.push(
      `${rounds} measured round(s), order rotated each round, medians shown; warm-up excluded. ` +
        'MB = 10^6 bytes; every MB/s = table raw (or stored) bytes / that row’s median time.',
    );
    out.push('');
    const header = [
      'variant',
      'median s',
      'items/s',
      'raw MB/s',
      'stored MB/s',
      'gzip x',
      'vs A',
      'CPU s node/ddb/s3',
      'Scan wait',
    ];
    const rows = summaries.map((s) => [
      s.label,
      fmt(s.secondsMedian),
      fmtInt(s.itemsPerSecond),
      fmt(s.rawMBps),
      s.storedMBps === undefined ? '—' : fmt(s.storedMBps),
      s.compression === undefined ? '—' : fmt(s.compression, 1),
      `${fmt(s.ratioVsBaseline)}x`,
      `${fmt(s.cpuMedian.node, 1)}/${fmt(s.cpuMedian.dynamodb, 1)}/${fmt(s.cpuMedian.s3, 1)}`,
      s.scanWaitShare === undefined ? '—' : `${fmt(s.scanWaitShare * 100, 0)}%`,
    ]);
    out.push(renderTable([header, ...rows]));
    out.push('');
    for (const id of ['scanPhase', 'pipeline'] as const) {
      const s = summaries.find((x) => x.variant === id);
      if (!s) continue;
      out.push(
        `${s.label}: ${fmt(s.ratioVsBaseline)}x of baseline (median of paired per-round ratios ` +
          `${fmt(s.pairedRatioMedian)}x); goal >= ${goal}x: ${s.ratioVsBaseline >= goal ? 'met' : 'NOT met'}`,
      );
    }
    out.push(
      `pipeline phases (median s): start-backup + prepare ${fmt(phases.prepare)}, segment scans ` +
        `${fmt(phases.scans)}, finalize ${fmt(phases.finalize)}`,
    );
    const cpuTotal = (c: CpuSplit) => c.node + c.dynamodb + c.s3;
    const baseCpu = summaries.find((x) => x.variant === 'baseline');
    out.push(
      'CPU work per run (node+ddb+s3, median CPU s; less sensitive than wall time to other load): ' +
        summaries
          .map(
            (s) =>
              `${s.variant} ${fmt(cpuTotal(s.cpuMedian), 1)}` +
              (baseCpu && s !== baseCpu
                ? ` (A/this ${fmt(cpuTotal(baseCpu.cpuMedian) / cpuTotal(s.cpuMedian))}x)`
                : ''),
          )
          .join(', '),
    );
    out.push('per-round seconds:');
    for (const s of summaries)
      out.push(`  ${s.variant.padEnd(9)} ${s.secondsAll.map((x) => fmt(x)).join('  ')}`);
    out.push(
      'CPU s = CPU seconds used during the run by this node process (driver, SDK clients, in-process ' +
        `Lambda stand-ins, control plane) / DynamoDB Local (${facts.emulatorProcesses.dynamodb}) / s3rver; ` +
        `the machine has ${nproc} x wall seconds.`,
    );
    out.push(
      `Scan wait = time inside DynamoDB send() / (wall x ${concurrency} segments in flight): the share ` +
        'of the time a segment has a Scan request outstanding.',
    );
    if (tails.length)
      out.push(
        `scan phase uploads: ${tails.length} chunk(s), each a single PutObject once gzip ended (compressed ` +
          `chunk < the ${fmt((8 * 1024 * 1024) / MB, 1)} MB part size); wait after the last page: median ` +
          `${fmt(median(tails) * 1000, 0)} ms, max ${fmt(Math.max(...tails) * 1000, 0)} ms`,
      );
    out.push('');
    out.push(
      renderTable([
        [`CPU per step (single thread, ${fmtInt(Math.min(items, 10_000))} items)`, 'raw MB per CPU s', 'out'],
        ...costs.steps.map((c) => [
          c.step,
          fmt(c.rawMBps, 0),
          c.outBytes === undefined ? '' : `${fmt(costs.rawBytes / c.outBytes, 2)}x smaller`,
        ]),
      ]),
    );
    out.push('');
    if (rss) {
      const r = rss;
      out.push(
        renderTable([
          [
            'segment worker (child process)',
            'items',
            'raw MB',
            'stored MB',
            'chunks',
            'run s',
            'maxRSS KB',
            'over idle KB',
            'heapUsed KB*',
            'arrayBuffers KB*',
          ],
          ...(['idle', 'small', 'large', 'capped'] as const).map((k) => {
            const w = k === 'capped' ? r.capped.result : r[k];
            const idle = k === 'idle';
            const name =
              k === 'idle'
                ? 'idle: imports + clients + connect'
                : k === 'capped'
                  ? `worker, large table, old space <= ${r.capped.capMb} MB`
                  : `worker, ${k} table, TotalSegments 1`;
            if (!w) return [name, 'FAILED', '', '', '', '', '', '', '', ''];
            return [
              name,
              idle ? '—' : fmtInt(w.items),
              idle ? '—' : fmt(w.rawBytes / MB),
              idle ? '—' : fmt(w.storedBytes / MB),
              idle ? '—' : String(w.chunks),
              idle ? '—' : fmt(w.seconds),
              fmtInt(w.maxRssKb),
              idle ? '—' : `+${fmtInt(w.maxRssKb - r.idle.maxRssKb)}`,
              fmtInt(w.sampledPeakKb.heapUsed),
              fmtInt(w.sampledPeakKb.arrayBuffers),
            ];
          }),
        ]),
      );
      const incSmall = r.small.maxRssKb - r.idle.maxRssKb;
      const incLarge = r.large.maxRssKb - r.idle.maxRssKb;
      out.push(
        `large/small: data ${fmt(r.large.rawBytes / r.small.rawBytes)}x, maxRSS ` +
          `${fmt(r.large.maxRssKb / r.small.maxRssKb)}x, increment over idle ${fmt(incLarge / incSmall)}x ` +
          `(+${fmtInt(incLarge - incSmall)} KB for +${fmt((r.large.rawBytes - r.small.rawBytes) / MB)} MB raw)`,
      );
      out.push(
        r.capped.result && !r.capped.failure
          ? `large table with V8 old space capped at the small run's peak heap (${r.capped.capMb} MB): ` +
              `completed, maxRSS ${fmtInt(r.capped.result.maxRssKb)} KB (${fmt(r.capped.result.maxRssKb / r.small.maxRssKb)}x small) ` +
              '-> the larger table needs no more old-generation heap than the small one'
          : `large table with V8 old space capped at ${r.capped.capMb} MB: FAILED (${r.capped.failure}) ` +
              '-> the worker needs more heap for the larger table',
      );
      out.push(
        'maxRSS = process.resourceUsage().maxRSS in the child right after run(); * = peak of 25 ms samples ' +
          'of process.memoryUsage() (arrayBuffers = Buffers outside the JS heap, e.g. gzip output held for the upload)',
      );
      out.push('');
    }
    out.push(
      'verification (last pipeline snapshot vs live table, local/snapshot-check compareItemSets, every ' +
        `chunk's SHA-256 and size checked): expected ${fmtInt(comparison.expected)}, actual ` +
        `${fmtInt(comparison.actual)}, missing ${comparison.missing}, unexpected ${comparison.unexpected}, ` +
        `duplicates ${comparison.duplicates} -> ${verified ? 'OK' : 'FAILED'}`,
    );
    out.push(`total bench time ${fmt((Date.now() - started) / 1000, 0)} s; result in ${RESULT_PATH}`);
    process.stdout.write(`${out.join('\n')}\n`);

    await mkdir(join(ROOT, '.bench'), { recursive: true });
    await writeFile(
      RESULT_PATH,
      `${JSON.stringify(
        {
          benchmark: 'snapshot',
          facts,
          config: {
            items,
            rounds,
            rssSmallItems: rssSmall,
            breakdown,
            overrides,
            segments,
            concurrency,
            tableSizeBytes,
            tableRawBytes,
            settings,
          },
          rawBytesDefinition: 'UTF-8 bytes of the export lines {"Item":{…}}\\n, as ChunkWriter counts them',
          goal: { pipelineOverBaseline: goal },
          summaries,
          pipelinePhasesMedianSeconds: phases,
          measurements,
          cpuCosts: costs,
          rss: rss
            ? {
                ...rss,
                incrementSmallKb: rss.small.maxRssKb - rss.idle.maxRssKb,
                incrementLargeKb: rss.large.maxRssKb - rss.idle.maxRssKb,
                maxRssRatio: rss.large.maxRssKb / rss.small.maxRssKb,
                cappedMaxRssRatio: rss.capped.result ? rss.capped.result.maxRssKb / rss.small.maxRssKb : null,
              }
            : null,
          verification: { ...comparison, verified, backupId: lastBackup?.backupId },
          totalSeconds: (Date.now() - started) / 1000,
        },
        null,
        2,
      )}\n`,
    );
    if (!verified) {
      log('snapshot content does not match the table: the figures above are not valid');
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
