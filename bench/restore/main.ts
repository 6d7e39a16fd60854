/**
 * `npm run bench:restore` (bench/restore/main.ts) — restore throughput against peers measured in the same run, on a
 * local cloud of its own (DynamoDB Local, s3rver). Prints ratios; never asserts on time.
 *
 * Load: the real restore-load worker (S3 get + SHA-256 + gunzip + parse + BatchWriteItem with
 * backoff) over every (table, segment) of a real snapshot, MAP units in parallel with WRITERS
 * requests each, against bare BatchWriteItem of the same items, already parsed in memory, with
 * MAP × WRITERS requests in flight. Goal ≥ 0.8×.
 *
 * Replay: the real restore-replay worker over a log of RECORDS change records on KEYS keys
 * (S3 get + SHA-256 + gunzip + partition filter + parse + last-writer-wins + BatchWriteItem of
 * the winners), against decode-only (S3 get + SHA-256 + gunzip + JSON.parse of every line) of
 * the same objects with as many workers. Goal ≥ 0.5×. Shown for 1 partition and for MAP
 * partitions (each partition's worker reads and gunzips every object of its table, keeping only
 * its keys: P× the decompression, the price of a memory bound without a shuffle), once with
 * the winners discarded (the replay's own cost) and once written (bounded by the table's write
 * rate, shown against bare BatchWriteItem's).
 *
 *   --rounds N (BENCH_ROUNDS, 3: load medians)
 *   --items N (BENCH_ITEMS, 20000)  --records N (BENCH_RECORDS, 100000)  --keys N (BENCH_KEYS, 10000)
 *   --map N (BENCH_MAP, 4)          --writers N (BENCH_WRITERS, 4)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDemoTable } from '../../demo/workload';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../../functions/adapters/dynamo-restore-catalog';
import { DynamoTargetTables } from '../../functions/adapters/restore-tables';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { dynamoClient, s3Client } from '../../local/clients';
import { type LocalCloud, rewindCloudOptions, startLocalCloud } from '../../local/cloud';
import { invoke, waitForBackup } from '../../test/support/cloud';
import { fmt, fmtInt, intSetting, loadDemoOrders, log, renderTable } from '../support';
import { CLUSTER, type RestoreBenchContext, SOURCE } from './context';
import { benchLoad } from './load';
import { benchReplay, writeLog } from './replay';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function main(): Promise<void> {
  const items = intSetting('items', 'BENCH_ITEMS', 20_000);
  const rounds = Math.max(1, intSetting('rounds', 'BENCH_ROUNDS', 3));
  const records = intSetting('records', 'BENCH_RECORDS', 100_000);
  const keys = intSetting('keys', 'BENCH_KEYS', 10_000);
  const map = Math.max(1, intSetting('map', 'BENCH_MAP', 4));
  const writers = Math.max(1, intSetting('writers', 'BENCH_WRITERS', 4));
  const dir = await mkdtemp(join(tmpdir(), 'rewind-bench-restore-'));
  let cloud: LocalCloud | undefined;
  try {
    log(`starting a local cloud in ${dir}`);
    cloud = await startLocalCloud(await rewindCloudOptions(dir));
    const cfg = cloud.config;
    const ddb = dynamoClient(cfg);
    const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);
    await createDemoTable(ddb, SOURCE, 'orders');
    log(`loading ${fmtInt(items)} items into ${SOURCE}`);
    await loadDemoOrders(ddb, SOURCE, items);
    const { DynamoCatalog } = await import('../../functions/adapters/dynamo-catalog');
    const catalog = new DynamoCatalog(ddb, cfg.catalogTable);
    await catalog.putCluster({
      schemaVersion: 1,
      clusterName: CLUSTER,
      tables: [SOURCE],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    log('snapshot backup (the real pipeline)');
    const { lambdaClient } = await import('../../local/clients');
    const started = await invoke(lambdaClient(cfg), 'start-backup', { cluster: CLUSTER });
    const backup = await waitForBackup(
      catalog,
      CLUSTER,
      (started.payload as { backupId: string }).backupId,
      600_000,
    );
    if (backup.status !== 'COMPLETED') throw new Error(`backup ${backup.status}`);
    const ctx: RestoreBenchContext = {
      cloud,
      ddb,
      store,
      restores: new DynamoRestoreCatalog(ddb, cfg.catalogTable),
      logCatalog: new DynamoLogCatalog(ddb, cfg.catalogTable),
      tables: new DynamoTargetTables(ddb),
      backup,
      map,
      writers,
    };

    log(`load: bare BatchWriteItem at ${map * writers} in flight vs restore-load, ${map} units × ${writers}`);
    const load = await benchLoad(ctx, items, rounds);
    log(`log: ${fmtInt(records)} records over ${fmtInt(keys)} keys`);
    const { objects, logTo } = await writeLog(ctx, records, keys);
    const replays = [];
    for (const partitions of [...new Set([1, map])]) {
      log(`replay: ${partitions} partition(s) vs decode-only`);
      replays.push(await benchReplay(ctx, objects, logTo, partitions));
    }

    const rows = [
      ['measure', 'peer /s', 'rewind /s', 'ratio', 'goal'],
      [
        `load: items, ${load.units} units x ${writers} requests vs bare BatchWriteItem at ${map * writers} (median of ${load.rounds})`,
        fmtInt(load.bare),
        fmtInt(load.restore),
        fmt(load.restore / load.bare),
        '>= 0.80',
      ],
      ...replays.flatMap((r) => [
        [
          `replay P=${r.partitions} (${r.workers} workers): records, winners discarded, vs decode-only`,
          fmtInt(r.decode),
          fmtInt(r.compute),
          fmt(r.compute / r.decode),
          '>= 0.50',
        ],
        [
          `replay P=${r.partitions} (${r.workers} workers): records, ${fmtInt(r.writes)} winners written, vs decode-only`,
          fmtInt(r.decode),
          fmtInt(r.replay),
          fmt(r.replay / r.decode),
          '>= 0.50',
        ],
        [
          `replay P=${r.partitions}: winner writes/s vs bare BatchWriteItem items/s`,
          fmtInt(load.bare),
          fmtInt(r.applyWrites),
          fmt(r.applyWrites / load.bare),
          '-',
        ],
      ]),
    ];
    process.stdout.write(
      `\nRestore benchmark (${cpus().length} cores; peers: bare BatchWriteItem for load, decode-only for replay)\n${renderTable(rows)}\n`,
    );
    const out = resolve(import.meta.dirname, '..', '..', '.bench');
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, 'restore.json'),
      JSON.stringify({ items, records, keys, map, writers, load, replays }, null, 2),
    );
    ddb.destroy();
  } finally {
    await cloud?.stop().catch((e: unknown) => log(`stopping: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
