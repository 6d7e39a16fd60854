/**
 * `npm run demo`: the whole Rewind story on the local cloud, with no AWS account.
 *  1. start the local cloud (DynamoDB Local, kinesalite, s3rver, control plane, change bridge,
 *     Kinesis poller → ship-log);
 *  2. create two tables with every DynamoDB type, protect them as cluster "demo";
 *  3. run a continuous workload and take a snapshot while it writes;
 *  4. record the tables' state, then a "bad deploy" at instant M deletes and corrupts items;
 *  5. wait for the log checkpoint to pass M, restore the cluster to just before M into new
 *     tables, verify them against the recorded state, print a summary, stop everything.
 * Every step goes through the `rewind` CLI and the same handlers and state machines as AWS.
 * With `--bundled`, the functions run as the esbuild bundles Lambda runs (local/bundles.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIo } from '../cli/io';
import { main as rewind } from '../cli/main';
import { nowMicros } from '../functions/adapters/clock';
import { formatIsoMicros } from '../functions/core/time';
import { enableChangeCapture } from '../local/change-capture';
import { dynamoClient, type LocalConfig } from '../local/clients';
import { rewindCloudOptions, startLocalCloud } from '../local/cloud';
import { advanceCheckpointUntil } from './checkpoint-wait';
import { badDeploy, startWorkload } from './oracle';
import { compareItemSets, setsMatch, tableItems } from './snapshot-check';
import { createDemoTable, type DemoTableKind, demoItem, loadItems, range } from './workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ITEMS_PER_TABLE = Number(process.env.DEMO_ITEMS_PER_TABLE ?? 25_000);
const log = (line: string) => process.stderr.write(`${line}\n`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run a `rewind` command in-process with `--json`; its document, or an error with its output. */
async function cli(cfg: LocalConfig, args: string[]): Promise<Record<string, unknown>> {
  const out = memoryIo();
  const code = await rewind(['--local', cfg.dir, ...args, '--json'], out.io);
  if (code !== 0) throw new Error(`rewind ${args.join(' ')} exited ${code}: ${out.stdout()} ${out.stderr()}`);
  return JSON.parse(out.stdout()) as Record<string, unknown>;
}

async function demo(cfg: LocalConfig): Promise<boolean> {
  const dynamodb = dynamoClient(cfg);
  const tables: { name: string; kind: DemoTableKind }[] = [
    { name: 'demo-orders', kind: 'orders' },
    { name: 'demo-blobs', kind: 'blobs' },
  ];
  const loadStart = performance.now();
  for (const { name, kind } of tables) {
    await createDemoTable(dynamodb, name, kind);
    await loadItems(
      dynamodb,
      name,
      (function* () {
        for (const i of range(ITEMS_PER_TABLE)) yield demoItem(kind, i);
      })(),
    );
    log(`  ${name}: ${ITEMS_PER_TABLE} items`);
  }
  log(
    `loaded ${tables.length * ITEMS_PER_TABLE} items in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`,
  );

  log('protect: rewind cluster register --cluster demo --tables demo-orders,demo-blobs');
  await cli(cfg, [
    'cluster',
    'register',
    '--cluster',
    'demo',
    '--tables',
    tables.map((t) => t.name).join(','),
  ]);
  await enableChangeCapture(
    cfg,
    'demo',
    tables.map((t) => t.name),
  ); // idempotent: register does it too

  log('workload: ~50 writes/s on demo-orders (puts, updates, deletes) from now on');
  const workload = startWorkload(dynamodb, 'demo-orders', ITEMS_PER_TABLE, 50);
  await sleep(2_000);

  log('snapshot while writes continue: rewind backup start --cluster demo --wait');
  const snapshotStart = performance.now();
  const backup = await cli(cfg, [
    'backup',
    'start',
    '--cluster',
    'demo',
    '--name',
    'demo-snapshot',
    '--wait',
  ]);
  const snapshotSeconds = (performance.now() - snapshotStart) / 1000;
  if (backup.status !== 'COMPLETED') throw new Error(`backup ended ${String(backup.status)}`);
  await sleep(3_000); // writes go on past the snapshot's restorableFrom (endTs + margin)
  const ops = await workload.stop();
  await sleep(2_000); // the change bridge stamps what it has read; let it drain

  log('recording the state of both tables before the mistake…');
  const before = new Map<string, string[]>();
  for (const { name } of tables) before.set(name, await tableItems(dynamodb, name));
  const mistakeAt = nowMicros();
  log(`bad deploy at ${formatIsoMicros(mistakeAt)}: 200 items deleted, 200 corrupted`);
  await badDeploy(dynamodb, 'demo-orders', ITEMS_PER_TABLE, 200);

  const restorePoint = mistakeAt - 1;
  const lagStart = nowMicros();
  const checkpoint = await advanceCheckpointUntil(cfg, 'demo', restorePoint);
  const checkpointWait = (nowMicros() - lagStart) / 1e6;
  const status = await cli(cfg, ['status', '--cluster', 'demo']).catch(() => ({}) as Record<string, unknown>);

  log(
    `PITR: rewind restore start --cluster demo --to ${formatIsoMicros(restorePoint)} --target-prefix restored- --wait`,
  );
  const restoreStart = performance.now();
  const restore = await cli(cfg, [
    'restore',
    'start',
    '--cluster',
    'demo',
    '--to',
    formatIsoMicros(restorePoint),
    '--target-prefix',
    'restored-',
    '--wait',
  ]);
  const restoreSeconds = (performance.now() - restoreStart) / 1000;

  log('verifying restored tables against the recorded state…');
  let verified = restore.status === 'COMPLETED';
  const rows: string[] = [];
  for (const { name } of tables) {
    const comparison = compareItemSets(
      before.get(name) ?? [],
      await tableItems(dynamodb, `restored-${name}`),
    );
    verified &&= setsMatch(comparison);
    rows.push(
      `  verified      restored-${name}: ${comparison.actual} items, missing ${comparison.missing}, unexpected ${comparison.unexpected}, duplicates ${comparison.duplicates}`,
    );
  }
  const phases = (restore.phases ?? {}) as Record<string, { seconds: number | null }>;
  console.log(
    [
      '',
      'Rewind demo — snapshot, log backup, mistake, point-in-time restore',
      `  workload      ${ops} writes during the run; snapshot taken while they continued`,
      `  snapshot      ${String(backup.backupId)}: ${String(backup.items)} items, ${mib(Number(backup.bytes))} raw → ${mib(Number(backup.storedBytes))} stored, ${snapshotSeconds.toFixed(1)} s`,
      `  mistake       ${formatIsoMicros(mistakeAt)} (400 bad writes)`,
      `  checkpoint    ${formatIsoMicros(checkpoint)}, passed the mistake ${checkpointWait.toFixed(1)} s after it; rpo ${String(status.rpoSeconds ?? 'n/a')} s`,
      `  restore       to ${String(restore.restorePoint)}: ${String(restore.status)} in ${restoreSeconds.toFixed(1)} s`,
      `  phases (s)    ${Object.entries(phases)
        .map(([p, v]) => `${p} ${v?.seconds?.toFixed(2) ?? '-'}`)
        .join(', ')}`,
      `  items         ${String(restore.items)} restored into ${(restore.tables as unknown[]).length} new tables`,
      ...rows,
      `  result        ${verified ? 'restored tables equal the source state just before the mistake' : 'MISMATCH'}`,
      '',
    ].join('\n'),
  );
  return verified;
}

async function mainDemo(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-demo-'));
  log('starting the local cloud (DynamoDB Local, kinesalite, s3rver, control plane, change bridge, poller)…');
  // `npm run demo -- --bundled`: the functions run as their Lambda bundles, in worker threads.
  const bundled = process.argv.slice(2).includes('--bundled');
  const cloud = await startLocalCloud({
    ...(await rewindCloudOptions(dir)),
    bundled,
    onBundlesBuilt: ({ bundles, ms }) =>
      log(`built ${bundles.length} function bundles in ${(ms / 1000).toFixed(1)} s`),
  });
  log(`functions: ${cloud.config.functions}`);
  const stopOnSignal = () => void cloud.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  try {
    return (await demo(cloud.config)) ? 0 : 1;
  } finally {
    process.off('SIGINT', stopOnSignal);
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
    log('local cloud stopped');
  }
}

mainDemo().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
