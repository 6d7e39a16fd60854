/**
 * `npm run bench:restore` — restore throughput against peers measured in the same run, on a
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
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BatchWriteItemCommand, CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { nowMicros } from '../functions/adapters/clock';
import { DynamoLogCatalog } from '../functions/adapters/dynamo-log-catalog';
import { DynamoRestoreCatalog } from '../functions/adapters/dynamo-restore-catalog';
import { gzipLines, ManifestCache, readVerified } from '../functions/adapters/restore-objects';
import { DynamoTargetTables } from '../functions/adapters/restore-tables';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import type { BackupRecord } from '../functions/core/catalog-model';
import { type Item, itemToJson, parseExportLine } from '../functions/core/dynamo-json';
import { logKey } from '../functions/core/keys';
import { LOG_SCHEMA_VERSION, type LogObjectRecord } from '../functions/core/log-model';
import { pendingPhases, RESTORE_SCHEMA_VERSION } from '../functions/core/restore-model';
import type { Micros } from '../functions/core/time';
import { run as createTables } from '../functions/restore-create-tables/run';
import { run as restoreLoad } from '../functions/restore-load/run';
import { run as restoreReplay } from '../functions/restore-replay/run';
import { dynamoClient, s3Client } from '../local/clients';
import { type LocalCloud, rewindCloudOptions, startLocalCloud } from '../local/cloud';
import { readManifest } from '../local/snapshot-check';
import { demoItem, demoTableDefinition, loadItems, range } from '../local/workload';
import { invoke, waitForBackup } from '../test/support/cloud';
import { fmt, fmtInt, intSetting, median, pool, renderTable } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const CLUSTER = 'bench';
const SOURCE = 'bench-orders';
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

interface Ctx {
  cloud: LocalCloud;
  ddb: ReturnType<typeof dynamoClient>;
  store: S3ObjectStore;
  restores: DynamoRestoreCatalog;
  logCatalog: DynamoLogCatalog;
  tables: DynamoTargetTables;
  backup: BackupRecord;
  map: number;
  writers: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** A RUNNING job over the snapshot, restoring SOURCE into `target`, replaying [logFrom, logTo]. */
async function job(ctx: Ctx, restoreId: string, target: string, logTo: Micros): Promise<void> {
  const b = ctx.backup;
  await ctx.restores.createRestore({
    schemaVersion: RESTORE_SCHEMA_VERSION,
    clusterName: CLUSTER,
    restoreId,
    request: { to: 'bench', targetPrefix: 'bench-' },
    restorePoint: logTo,
    plan: {
      backupId: b.backupId,
      manifestKey: b.manifestKey ?? '',
      snapshotPrefix: b.snapshotPrefix ?? '',
      startTs: b.startTs ?? 0,
      endTs: b.endTs ?? 0,
      logFrom: (b.startTs ?? 0) - 1_000_000,
      logTo,
      tables: [{ source: SOURCE, target }],
    },
    status: 'RUNNING',
    attempt: 1,
    requestedAt: nowMicros(),
    phases: pendingPhases(),
    createdTables: [],
    loadUnits: {},
    replayUnits: {},
  });
}

async function benchLoad(ctx: Ctx, items: number, rounds: number) {
  // Baseline: the snapshot's items, parsed up front, written bare at MAP x WRITERS in flight.
  const manifest = await readManifest(ctx.store, ctx.backup.manifestKey ?? '');
  const parsed: Item[] = [];
  for (const chunk of manifest.tables[0]?.chunks ?? []) {
    const body = await ctx.store.get(chunk.key);
    for await (const line of gzipLines(body)) parsed.push(parseExportLine(line));
  }
  if (parsed.length !== items) throw new Error(`snapshot holds ${parsed.length} items, expected ${items}`);
  const batches: Item[][] = [];
  for (let i = 0; i < parsed.length; i += 25) batches.push(parsed.slice(i, i + 25));
  const bareRound = async (round: number) => {
    const table = `base-${round}-${Date.now()}`;
    await ctx.ddb.send(new CreateTableCommand(demoTableDefinition(table, 'orders')));
    await waitUntilTableExists({ client: ctx.ddb, maxWaitTime: 60 }, { TableName: table });
    const { seconds } = await timed(() =>
      pool(batches.length, ctx.map * ctx.writers, async (i) => {
        let pending = (batches[i] ?? []).map((item) => ({ PutRequest: { Item: item as never } }));
        while (pending.length > 0) {
          const out = await ctx.ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
          pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
        }
      }),
    );
    return seconds;
  };
  // Restore: the real load worker per (table, segment), MAP at a time, WRITERS requests each.
  let units = 0;
  const restoreRound = async (round: number) => {
    const restoreId = `load-${round}-${Date.now()}`;
    await job(ctx, restoreId, `rl-${round}-${Date.now()}`, ctx.backup.restorableFrom ?? 0);
    const manifests = new ManifestCache();
    const ref = { cluster: CLUSTER, restoreId };
    const created = await createTables(ref, {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      now: nowMicros,
      manifests,
      config: { maxConcurrency: ctx.map, waitSeconds: 1 },
    });
    units = created.loadUnits.length;
    const deps = {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      manifests,
      remainingMs: () => 900_000,
      config: { writeConcurrency: ctx.writers, timeReserveMs: 1_000 },
    };
    const { seconds, value } = await timed(() =>
      pool(created.loadUnits.length, ctx.map, async (i) => {
        let out = await restoreLoad({ ...ref, ...created.loadUnits[i] }, deps);
        while (!out.done) out = await restoreLoad(out, deps);
        return out.items;
      }),
    );
    const loaded = value.reduce((a, b) => a + b, 0);
    if (loaded !== items) throw new Error(`loaded ${loaded} items, expected ${items}`);
    return seconds;
  };
  const bare: number[] = [];
  const restore: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so neither always runs on a warmer (or busier) emulator.
    if (round % 2 === 0) {
      bare.push(await bareRound(round));
      restore.push(await restoreRound(round));
    } else {
      restore.push(await restoreRound(round));
      bare.push(await bareRound(round));
    }
    log(`  round ${round + 1}: bare ${fmt(bare[round] ?? 0)} s, restore-load ${fmt(restore[round] ?? 0)} s`);
  }
  return {
    bare: items / median(bare),
    restore: items / median(restore),
    bareSeconds: bare,
    restoreSeconds: restore,
    units,
    rounds,
  };
}

/** RECORDS changes over KEYS keys (20% removes), 1,000 per object, within the snapshot's log window. */
async function writeLog(
  ctx: Ctx,
  records: number,
  keys: number,
): Promise<{ objects: LogObjectRecord[]; logTo: Micros }> {
  const t0 = ctx.backup.restorableFrom ?? 0;
  const objects: LogObjectRecord[] = [];
  for (let first = 0; first < records; first += 1_000) {
    let text = '';
    const n = Math.min(1_000, records - first);
    for (let j = 0; j < n; j++) {
      const i = first + j;
      const base = demoItem('orders', (i * 7919) % keys);
      const key = { pk: base.pk, sk: base.sk } as Item;
      const remove = i % 5 === 4;
      text += `${JSON.stringify({ table: SOURCE, op: remove ? 'REMOVE' : 'MODIFY', keys: itemToJson(key), newImage: remove ? undefined : itemToJson({ ...base, rev: { N: String(i) } }), ts: t0 + i, eventId: `e${i}`, shardId: 'shardId-000000000000', sequenceNumber: String(100_000 + i) })}\n`;
    }
    const body = gzipSync(text, { level: 1 });
    const record: LogObjectRecord = {
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: CLUSTER,
      key: logKey(CLUSTER, SOURCE, t0 + first, 'shardId-000000000000', String(100_000 + first)),
      table: SOURCE,
      shardId: 'shardId-000000000000',
      firstSequenceNumber: String(100_000 + first),
      lastSequenceNumber: String(100_000 + first + n - 1),
      minTs: t0 + first,
      maxTs: t0 + first + n - 1,
      records: n,
      rawBytes: Buffer.byteLength(text),
      bytes: body.length,
      sha256: sha256(body),
      writtenAt: nowMicros(),
    };
    await ctx.store.put(record.key, body, 'application/gzip');
    await ctx.logCatalog.putLogObject(record);
    objects.push(record);
  }
  return { objects, logTo: t0 + records };
}

async function benchReplay(ctx: Ctx, objects: LogObjectRecord[], logTo: Micros, partitions: number) {
  const records = objects.reduce((s, o) => s + o.records, 0);
  const workers = Math.min(partitions, ctx.map);
  const decode = await timed(() =>
    pool(objects.length, workers, async (i) => {
      const o = objects[i] as LogObjectRecord;
      const body = await readVerified(ctx.store, o.key, { sha256: o.sha256, bytes: o.bytes });
      let n = 0;
      for await (const line of gzipLines(body)) if (JSON.parse(line)) n++;
      return n;
    }),
  );
  const run = async (tables: DynamoTargetTables, label: string) => {
    const restoreId = `replay-${label}-${partitions}-${Date.now()}`;
    await job(ctx, restoreId, `rr-${label}-${partitions}-${Date.now()}`, logTo);
    const ref = { cluster: CLUSTER, restoreId };
    await createTables(ref, {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      now: nowMicros,
      config: { maxConcurrency: ctx.map, waitSeconds: 1 },
    });
    const deps = {
      restoreCatalog: ctx.restores,
      logCatalog: ctx.logCatalog,
      store: ctx.store,
      tables,
      config: { writeConcurrency: ctx.writers },
    };
    const replay = await timed(() =>
      pool(partitions, workers, (partition) =>
        restoreReplay({ ...ref, table: SOURCE, partition, partitions }, deps),
      ),
    );
    const kept = replay.value.reduce((s, r) => s + r.kept, 0);
    if (kept !== records) throw new Error(`replay kept ${kept} of ${records} records`);
    return { seconds: replay.seconds, writes: replay.value.reduce((s, r) => s + r.puts + r.deletes, 0) };
  };
  // The replay pipeline without the table (winners discarded), then the real one.
  const compute = await run(new NullTables(ctx.ddb), 'compute');
  const full = await run(ctx.tables, 'full');
  return {
    partitions,
    workers,
    records,
    writes: full.writes,
    decode: records / decode.seconds,
    compute: records / compute.seconds,
    replay: records / full.seconds,
    /** Winners written per second while applying (full − compute time). */
    applyWrites: full.writes / Math.max(1e-9, full.seconds - compute.seconds),
    decodeSeconds: decode.seconds,
    computeSeconds: compute.seconds,
    replaySeconds: full.seconds,
  };
}

/** Target tables whose writer discards: the replay's cost without DynamoDB's. */
class NullTables extends DynamoTargetTables {
  override writer() {
    const stats = { puts: 0, deletes: 0, requests: 0, retries: 0 };
    return {
      put: async () => {
        stats.puts++;
      },
      delete: async () => {
        stats.deletes++;
      },
      flush: async () => ({ ...stats }),
    };
  }
}

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
    await ddb.send(new CreateTableCommand(demoTableDefinition(SOURCE, 'orders')));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: SOURCE });
    log(`loading ${fmtInt(items)} items into ${SOURCE}`);
    await loadItems(
      ddb,
      SOURCE,
      (function* () {
        for (const i of range(items)) yield demoItem('orders', i);
      })(),
      { concurrency: 8 },
    );
    const { DynamoCatalog } = await import('../functions/adapters/dynamo-catalog');
    const catalog = new DynamoCatalog(ddb, cfg.catalogTable);
    await catalog.putCluster({
      schemaVersion: 1,
      clusterName: CLUSTER,
      tables: [SOURCE],
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });
    log('snapshot backup (the real pipeline)');
    const { lambdaClient } = await import('../local/clients');
    const started = await invoke(lambdaClient(cfg), 'start-backup', { cluster: CLUSTER });
    const backup = await waitForBackup(
      catalog,
      CLUSTER,
      (started.payload as { backupId: string }).backupId,
      600_000,
    );
    if (backup.status !== 'COMPLETED') throw new Error(`backup ${backup.status}`);
    const ctx: Ctx = {
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
    const out = resolve(import.meta.dirname, '..', '.bench');
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
