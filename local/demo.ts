/**
 * `npm run demo`: the whole snapshot story on the local cloud, with no AWS account.
 * Starts the emulators and control plane, creates and fills two tables with every DynamoDB
 * type, registers them as a cluster, takes a snapshot through the real path (Lambda Invoke →
 * state machine → segment workers → manifest), verifies it against a scan of the source, prints
 * a summary, and stops everything.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import { S3ObjectStore } from '../functions/adapters/s3-object-store';
import { type BackupRecord, CATALOG_SCHEMA_VERSION } from '../functions/core/catalog-model';
import { formatIsoMicros } from '../functions/core/time';
import { dynamoClient, lambdaClient, s3Client } from './clients';
import { rewindCloudOptions, startLocalCloud } from './cloud';
import { compareItemSets, readManifest, setsMatch, snapshotItems, tableItems } from './snapshot-check';
import { createDemoTable, type DemoTableKind, demoItem, loadItems, range } from './workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ITEMS_PER_TABLE = Number(process.env.DEMO_ITEMS_PER_TABLE ?? 30_000);
const log = (line: string) => process.stderr.write(`${line}\n`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-demo-'));
  log('starting the local cloud (DynamoDB Local, kinesalite, s3rver, control plane)…');
  const cloud = await startLocalCloud(await rewindCloudOptions(dir));
  const stopOnSignal = () => void cloud.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  try {
    const cfg = cloud.config;
    const dynamodb = dynamoClient(cfg);
    const catalog = new DynamoCatalog(dynamodb, cfg.catalogTable);
    const store = new S3ObjectStore(s3Client(cfg), cfg.bucket);

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
        { onProgress: (n) => n % 5000 < 25 && log(`  ${name}: ${n} items`) },
      );
    }
    log(
      `loaded ${tables.length * ITEMS_PER_TABLE} items in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`,
    );

    await catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: 'demo',
      tables: tables.map((t) => t.name),
      retentionDays: 7,
      createdAt: new Date().toISOString(),
    });

    log('snapshot: invoking start-backup {"cluster":"demo","name":"demo-snapshot"}…');
    const started = performance.now();
    const backup = await snapshot(lambdaClient(cfg), catalog);
    const seconds = (performance.now() - started) / 1000;
    if (backup.status !== 'COMPLETED') {
      log(`backup ${backup.backupId} ended ${backup.status}: ${backup.failure?.cause ?? ''}`);
      return 1;
    }

    log('verifying: every source item exactly once in the chunks, every checksum…');
    const manifest = await readManifest(store, backup.manifestKey ?? '');
    let verified = true;
    for (const { name } of tables) {
      const comparison = compareItemSets(
        await tableItems(dynamodb, name),
        await snapshotItems(store, manifest, name),
      );
      verified &&= setsMatch(comparison);
      log(`  ${name}: ${JSON.stringify(comparison)}`);
    }

    const summary = {
      backupId: backup.backupId,
      status: backup.status,
      startTs: formatIsoMicros(backup.startTs ?? 0),
      endTs: formatIsoMicros(backup.endTs ?? 0),
      tables: backup.tables.map((t) => ({ name: t.name, items: t.items, chunks: t.chunks })),
      items: backup.items,
      rawBytes: backup.rawBytes,
      storedBytes: backup.storedBytes,
      durationSeconds: Number(seconds.toFixed(2)),
      itemsPerSecond: Math.round(backup.items / seconds),
      rawMiBPerSecond: Number((backup.rawBytes / 1024 / 1024 / seconds).toFixed(2)),
      verified,
    };
    console.log(
      [
        '',
        'Rewind demo — snapshot backup',
        `  backup        ${summary.backupId} (${summary.status})`,
        `  window        ${summary.startTs} → ${summary.endTs}`,
        ...summary.tables.map((t) => `  table         ${t.name}: ${t.items} items in ${t.chunks} chunk(s)`),
        `  items         ${summary.items}`,
        `  bytes         ${mib(summary.rawBytes)} raw → ${mib(summary.storedBytes)} stored (${(summary.rawBytes / summary.storedBytes).toFixed(1)}×)`,
        `  duration      ${summary.durationSeconds} s  (${summary.itemsPerSecond} items/s, ${summary.rawMiBPerSecond} MiB/s raw)`,
        `  verified      ${verified ? 'yes: every item exactly once, every type intact, every checksum' : 'NO'}`,
        '',
      ].join('\n'),
    );
    return verified ? 0 : 1;
  } finally {
    process.off('SIGINT', stopOnSignal);
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
    log('local cloud stopped');
  }
}

async function snapshot(
  lambda: ReturnType<typeof lambdaClient>,
  catalog: DynamoCatalog,
): Promise<BackupRecord> {
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: 'start-backup',
      Payload: new TextEncoder().encode(JSON.stringify({ cluster: 'demo', name: 'demo-snapshot' })),
    }),
  );
  const payload = JSON.parse(new TextDecoder().decode(response.Payload)) as {
    backupId: string;
    errorMessage?: string;
  };
  if (response.FunctionError) throw new Error(`start-backup failed: ${payload.errorMessage}`);
  for (;;) {
    const backup = await catalog.getBackup('demo', payload.backupId);
    if (backup && backup.status !== 'RUNNING') return backup;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
