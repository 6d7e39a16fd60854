/**
 * `npm run bench:snapshot` (bench/snapshot/main.ts) — snapshot throughput against a bare parallel Scan measured in the same
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
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareItemSets,
  readManifest,
  type SetComparison,
  setsMatch,
  snapshotItems,
  tableItems,
} from '../../demo/snapshot-check';
import { createDemoTable } from '../../demo/workload';
import { DynamoCatalog } from '../../functions/adapters/dynamo-catalog';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { describeTable } from '../../functions/adapters/table-schemas';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { chooseSegmentCount } from '../../functions/core/segments';
import { dynamoClient, s3Client } from '../../local/clients';
import { type LocalCloud, rewindCloudOptions, startLocalCloud } from '../../local/cloud';
import type { LocalFunctionOverrides } from '../../local/functions';
import { fmt, fmtInt, intSetting, loadDemoOrders, log, timeSends } from '../support';
import {
  benchSettings,
  CLUSTER,
  type Context,
  type Measurement,
  type PipelinePlane,
  type VariantId,
  WARM_CLUSTER,
} from './context';
import { cpuCosts } from './cpu-costs';
import { pipeline, pipelinePlane } from './pipeline';
import { reportSnapshotBench } from './report';
import { baseline, gzipOnly, scanPhase, serialize } from './scan-variants';
import { killSegmentWorkerChild, measureWorkerRss, type WorkerRss } from './worker-rss';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function main(): Promise<void> {
  const items = intSetting('items', 'BENCH_ITEMS', 50_000);
  const rounds = Math.max(1, intSetting('rounds', 'BENCH_ROUNDS', 3));
  const rssSmall = intSetting('rss-small', 'BENCH_RSS_SMALL', Math.max(1, Math.round(items / 5)));
  const breakdown = intSetting('breakdown', 'BENCH_BREAKDOWN', 0) !== 0;
  const measureRss = intSetting('rss', 'BENCH_RSS', 1) !== 0;
  const pageLimit = intSetting('page-limit', 'BENCH_PAGE_LIMIT', 0);
  const minSegments = intSetting('min-segments', 'BENCH_MIN_SEGMENTS', 0);
  const env: NonNullable<LocalFunctionOverrides['env']> = {
    ...(pageLimit > 0 ? { 'scan-segment': { SCAN_PAGE_LIMIT: pageLimit } } : {}),
    ...(minSegments > 0 ? { 'prepare-snapshot': { MIN_SEGMENTS: minSegments } } : {}),
  };
  const overrides: LocalFunctionOverrides = Object.keys(env).length > 0 ? { env } : {};
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
      killSegmentWorkerChild();
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
    const settings = benchSettings(cfg, overrides);
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
      await loadDemoOrders(loader, table, count);
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

    const rss: WorkerRss | undefined = measureRss
      ? await measureWorkerRss({
          dir: cfg.dir,
          pageLimit: settings.pageLimit,
          smallTable,
          smallItems: rssSmall,
          mainTable,
          items,
        })
      : undefined;

    log('CPU cost per step (in process, single thread)');
    const costs = cpuCosts(Math.min(items, 10_000));

    await reportSnapshotBench({
      items,
      rounds,
      rssSmall,
      breakdown,
      overrides,
      settings,
      segments,
      concurrency,
      tableSizeBytes,
      tableRawBytes,
      variants,
      measurements,
      rss,
      costs,
      comparison,
      verified,
      lastBackupId: lastBackup?.backupId,
      started,
      loadavgAtStart,
      emulatorPids: cloud.emulators.pids,
    });
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
