/**
 * `npm run bench:log` — log backup on a local cloud of its own (DynamoDB Local, kinesalite,
 * s3rver, the change bridge, the Kinesis poller and ship-log). Prints figures; never asserts.
 *
 * Checkpoint lag: a cluster over one table (change capture enabled by `cluster register`), a
 * steady workload of RATE small puts/s for SECONDS s, advance-checkpoint invoked (Lambda Invoke on
 * the local control plane) every 500 ms — EventBridge runs it every minute on AWS — and
 * lag = now − cluster checkpoint sampled every 250 ms. Goal: p99 ≤ 5 s locally (DynamoDB's own
 * PITR lags ~5 min).
 *
 * Ship-log throughput: the real ship-log run() (decode + group + gzip + S3 put + log-object
 * index + shard checkpoint against the emulators) over BATCHES batches of BATCH synthetic
 * KDS-for-DynamoDB records, one worker, against decode-only (decodeChangeRecord) of the same
 * records. Prints records/s of each and their ratio.
 *
 *   --rate N (BENCH_RATE, 200)  --seconds N (BENCH_SECONDS, 30)
 *   --batch N (BENCH_BATCH, 1000)  --batches N (BENCH_BATCHES, 10)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { memoryIo } from '../cli/io';
import { main as rewind } from '../cli/main';
import { createDemoTable } from '../demo/workload';
import { nowMicros } from '../functions/adapters/clock';
import { DynamoLogCatalog } from '../functions/adapters/dynamo-log-catalog';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import { decodeChangeRecord } from '../functions/core/log-batch';
import { run as shipLog } from '../functions/ship-log/run';
import { dynamoClient, type LocalConfig, lambdaClient, s3Client } from '../local/clients';
import { rewindCloudOptions, startLocalCloud } from '../local/cloud';
import { kdsRecord, kinesisEvent, type StreamRecord } from '../test/support/log-fixtures';
import { fmt, fmtInt, intSetting, renderTable } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const RATE = intSetting('rate', 'BENCH_RATE', 200);
const SECONDS = intSetting('seconds', 'BENCH_SECONDS', 30);
const BATCH = intSetting('batch', 'BENCH_BATCH', 1000);
const BATCHES = intSetting('batches', 'BENCH_BATCHES', 10);

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Run `every` ms until stopped; each tick awaited (no overlap). */
function loop(every: number, tick: () => Promise<void>) {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const start = Date.now();
      await tick();
      await sleep(Math.max(0, every - (Date.now() - start)));
    }
  })();
  return async () => {
    stopped = true;
    await done;
  };
}

async function checkpointLag(cfg: LocalConfig) {
  const dynamodb = dynamoClient(cfg);
  const lambda = lambdaClient(cfg);
  const logCatalog = new DynamoLogCatalog(dynamodb, cfg.catalogTable);
  const writer = dynamoClient(cfg);
  const cluster = 'bench-log';
  const table = 'bench-log-orders';
  try {
    await createDemoTable(dynamodb, table, 'orders');
    const out = memoryIo();
    const code = await rewind(
      ['--local', cfg.dir, 'cluster', 'register', '--cluster', cluster, '--tables', table],
      out.io,
    );
    if (code !== 0) throw new Error(`cluster register exited ${code}: ${out.stderr()}`);

    log(
      `workload: ${RATE} puts/s for ${SECONDS} s; advance-checkpoint every 500 ms; lag sampled every 250 ms`,
    );
    let writes = 0;
    let writeErrors = 0;
    // Paced by schedule, not by replies: each 20 ms tick starts the puts due by now, so a slow
    // reply delays no other write (up to 40 in flight, on a client of their own).
    const inFlight = new Set<Promise<void>>();
    const writesStart = Date.now();
    const stopWrites = loop(20, async () => {
      const due = Math.floor(((Date.now() - writesStart) / 1000) * RATE);
      while (writes < due && inFlight.size < 40) {
        const i = writes++;
        const put = writer
          .send(
            new PutItemCommand({
              TableName: table,
              Item: {
                pk: { S: `order-${i % 5000}` },
                sk: { N: String(i % 7) },
                status: { S: i % 3 ? 'OPEN' : 'SHIPPED' },
                amount: { N: String(i) },
                note: { S: `item ${i} `.repeat(10) },
              },
            }),
          )
          .then(
            () => undefined,
            () => {
              writeErrors++;
            },
          )
          .finally(() => inFlight.delete(put));
        inFlight.add(put);
      }
    });
    let advanceErrors = 0;
    const stopAdvance = loop(500, async () => {
      try {
        const r = await lambda.send(
          new InvokeCommand({
            FunctionName: 'advance-checkpoint',
            Payload: new TextEncoder().encode(JSON.stringify({ cluster })),
          }),
        );
        if (r.FunctionError) advanceErrors++;
      } catch {
        advanceErrors++;
      }
    });
    const lags: number[] = [];
    let missing = 0;
    const warmupUntil = Date.now() + 3_000;
    const stopSampling = loop(250, async () => {
      const checkpoint = (await logCatalog.getClusterCheckpoint(cluster))?.checkpoint;
      if (Date.now() < warmupUntil) return;
      if (checkpoint === undefined) missing++;
      else lags.push((nowMicros() - checkpoint) / 1e6);
    });
    const started = Date.now();
    await sleep(SECONDS * 1000);
    await stopWrites();
    await Promise.all(inFlight);
    const elapsed = (Date.now() - started) / 1000;
    await stopSampling();
    await stopAdvance();
    return { writes, writeErrors, elapsed, lags, missing, advanceErrors };
  } finally {
    writer.destroy();
    dynamodb.destroy();
    lambda.destroy();
  }
}

/** BATCHES × BATCH synthetic records of one shard, sequence numbers and arrivals increasing. */
function syntheticBatches(cluster: string): StreamRecord[][] {
  const base = Date.now() * 1000;
  const batches: StreamRecord[][] = [];
  let n = 0;
  for (let b = 0; b < BATCHES; b++) {
    const batch: StreamRecord[] = [];
    for (let i = 0; i < BATCH; i++, n++) {
      const ts = base + n * 10;
      const keys = { pk: { S: `order-${n % 5000}` }, sk: { N: String(n % 7) } };
      const image = {
        ...keys,
        status: { S: 'OPEN' },
        amount: { N: String(n) },
        note: { S: `item ${n} `.repeat(20) },
      };
      const record = kdsRecord(
        { table: `${cluster}-t${n % 2}`, op: 'MODIFY', keys, newImage: image, oldImage: image, ts },
        `ev-${n}`,
      );
      batch.push({
        shardId: 'shardId-000000000000',
        sequenceNumber: (10n ** 55n + BigInt(n)).toString(),
        arrivalMs: Math.floor(ts / 1000) + 1,
        data: JSON.stringify(record),
      });
    }
    batches.push(batch);
  }
  return batches;
}

async function shipThroughput(cfg: LocalConfig) {
  const dynamodb = dynamoClient(cfg);
  const s3 = s3Client(cfg);
  const deps = {
    store: new S3ObjectStore(s3, cfg.bucket),
    logCatalog: new DynamoLogCatalog(dynamodb, cfg.catalogTable),
    now: nowMicros,
  };
  const cluster = 'bench-ship';
  try {
    const events = syntheticBatches(cluster).map((batch) => kinesisEvent(cluster, batch));
    const total = BATCHES * BATCH;
    // Warm-up: one batch each way (JIT, sockets), not counted.
    await shipLog(kinesisEvent(`${cluster}-warm`, syntheticBatches(`${cluster}-warm`)[0] ?? []), deps);

    let start = performance.now();
    let decoded = 0;
    for (const event of events)
      for (const r of event.Records) {
        decodeChangeRecord(r.kinesis.data, 'shardId-000000000000', r.kinesis.sequenceNumber);
        decoded++;
      }
    const decodeSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    let shipped = 0;
    let failures = 0;
    for (const event of events) {
      const result = await shipLog(event, deps);
      shipped += result.shipped;
      failures += result.batchItemFailures.length;
    }
    const shipSeconds = (performance.now() - start) / 1000;
    return { total, decoded, decodeSeconds, shipped, failures, shipSeconds };
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
}

async function bench() {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-bench-log-'));
  log(`local cloud in ${dir}`);
  const cloud = await startLocalCloud(await rewindCloudOptions(dir));
  try {
    const lag = await checkpointLag(cloud.config);
    const ship = await shipThroughput(cloud.config);
    const shipRate = ship.shipped / ship.shipSeconds;
    const decodeRate = ship.decoded / ship.decodeSeconds;
    console.log(
      `\ncheckpoint lag (now − cluster checkpoint), ${fmtInt(lag.writes)} writes in ` +
        `${fmt(lag.elapsed, 1)} s (${fmt(lag.writes / lag.elapsed, 0)}/s, ${lag.writeErrors} errors), ` +
        `${lag.lags.length} samples (${lag.missing} before a first checkpoint, ${lag.advanceErrors} advance errors)`,
    );
    console.log(
      renderTable([
        ['metric', 'p50', 'p99', 'max', 'goal'],
        [
          'lag (s)',
          fmt(percentile(lag.lags, 50)),
          fmt(percentile(lag.lags, 99)),
          fmt(Math.max(...lag.lags)),
          'p99 ≤ 5',
        ],
      ]),
    );
    console.log(`\nship-log, one worker, ${BATCHES} batches × ${BATCH} records (${ship.failures} failures)`);
    console.log(
      renderTable([
        ['path', 'records', 'seconds', 'records/s'],
        ['ship-log run()', fmtInt(ship.shipped), fmt(ship.shipSeconds), fmtInt(shipRate)],
        ['decode-only', fmtInt(ship.decoded), fmt(ship.decodeSeconds, 3), fmtInt(decodeRate)],
        ['ratio ship/decode', '', '', fmt(shipRate / decodeRate, 3)],
      ]),
    );
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

bench().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
