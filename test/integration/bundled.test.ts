import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../cli/io';
import { main } from '../../cli/main';
import { advanceCheckpointUntil } from '../../demo/checkpoint-wait';
import { badDeploy, startWorkload } from '../../demo/oracle';
import { compareItemSets, setsMatch, tableItems } from '../../demo/snapshot-check';
import { createDemoTable, demoItem, loadItems, range } from '../../demo/workload';
import { nowMicros } from '../../functions/adapters/clock';
import { formatIsoMicros } from '../../functions/core/time';
import { dynamoClient, type LocalConfig, lambdaClient } from '../../local/clients';
import { type LocalCloud, rewindCloudOptions, startLocalCloud } from '../../local/cloud';
import { invokeLocal } from '../../local/sfn-runner';
import { invoke, uniqueName } from '../support/cloud';
import { offlineConfig } from '../support/offline-config';

/**
 * `--bundled`: a local cloud of its own whose functions are the esbuild bundles built by the
 * local builder (the deployed options), each run in worker threads. One snapshot under writes,
 * a mistake, and a point-in-time restore to just before it, checked item by item.
 */
let dir: string;
let cloud: LocalCloud;
let buildMs = 0;
let bundleCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-bundled-'));
  cloud = await startLocalCloud({
    ...(await rewindCloudOptions(dir)),
    bundled: true,
    onBundlesBuilt: ({ bundles, ms }) => {
      buildMs = ms;
      bundleCount = bundles.length;
    },
  });
  process.stderr.write(`[bundled] built ${bundleCount} bundles in ${(buildMs / 1000).toFixed(1)} s\n`);
}, 170_000);

afterAll(async () => {
  await cloud?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function rewind(cfg: LocalConfig, ...argv: string[]) {
  const capture = memoryIo({ cwd: cfg.dir });
  const code = await main(['--local', cfg.dir, ...argv, '--json'], capture.io, { pollIntervalMs: 200 });
  const stdout = capture.stdout();
  if (code !== 0) throw new Error(`rewind ${argv.join(' ')} exited ${code}: ${stdout} ${capture.stderr()}`);
  return JSON.parse(stdout) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('local cloud running the function bundles (--bundled)', () => {
  it('records the mode and the bundle folder in local.json; every bundle is built', async () => {
    const json = JSON.parse(await readFile(join(dir, 'local.json'), 'utf8')) as LocalConfig;
    expect(json.functions).toBe('bundled');
    expect(json.bundleDir).toBe(join(dir, 'bundles'));
    for (const name of ['start-backup', 'scan-segment', 'ship-log', 'restore-load', 'advance-checkpoint'])
      expect(existsSync(join(dir, 'bundles', name, 'index.mjs')), name).toBe(true);
  });

  it('a bundled function reports its domain error through Lambda Invoke', async () => {
    const lambda = lambdaClient(cloud.config);
    const result = await invoke(lambda, 'start-restore', { cluster: 42 });
    lambda.destroy();
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'InvalidInputError' });
  });

  it('snapshot under writes, mistake, PITR to just before it: restored tables equal the source item by item', async () => {
    const cfg = cloud.config;
    const dynamodb = dynamoClient(cfg);
    const cluster = uniqueName('bundled');
    const tables = [`${cluster}-orders`, `${cluster}-blobs`];
    await createDemoTable(dynamodb, tables[0] ?? '', 'orders');
    await createDemoTable(dynamodb, tables[1] ?? '', 'blobs');
    await loadItems(
      dynamodb,
      tables[0] ?? '',
      (function* () {
        for (const i of range(250)) yield demoItem('orders', i);
      })(),
    );
    await loadItems(
      dynamodb,
      tables[1] ?? '',
      (function* () {
        for (const i of range(100)) yield demoItem('blobs', i);
      })(),
    );
    await rewind(cfg, 'cluster', 'register', '--cluster', cluster, '--tables', tables.join(','));

    const workload = startWorkload(dynamodb, tables[0] ?? '', 250, 40);
    await sleep(500);
    const backup = await rewind(cfg, 'backup', 'start', '--cluster', cluster, '--wait');
    expect(backup.status).toBe('COMPLETED');
    await sleep(1_500); // writes continue past the snapshot's restorable instant
    await workload.stop();
    await sleep(1_500); // the change bridge reads what was written

    const before = new Map<string, string[]>();
    for (const table of tables) before.set(table, await tableItems(dynamodb, table));
    const mistakeAt = nowMicros();
    await badDeploy(dynamodb, tables[0] ?? '', 250, 30);
    const restorePoint = mistakeAt - 1;
    await advanceCheckpointUntil(cfg, cluster, restorePoint);

    const restore = await rewind(
      cfg,
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      formatIsoMicros(restorePoint),
      '--target-prefix',
      'restored-',
      '--wait',
    );
    expect(restore.status).toBe('COMPLETED');
    for (const table of tables) {
      const comparison = compareItemSets(
        before.get(table) ?? [],
        await tableItems(dynamodb, `restored-${table}`),
      );
      expect(setsMatch(comparison), `${table}: ${JSON.stringify(comparison)}`).toBe(true);
    }
    dynamodb.destroy();
  });
});

describe('bundled function runtime', () => {
  let scratch: string;
  let runtime: Awaited<ReturnType<typeof import('../../local/bundles').startBundledFunctions>>;

  beforeAll(async () => {
    const { startBundledFunctions } = await import('../../local/bundles');
    scratch = await mkdtemp(join(tmpdir(), 'rewind-bundle-rt-'));
    await mkdir(join(scratch, 'probe'), { recursive: true });
    const bundle = join(scratch, 'probe', 'index.mjs');
    // A hand-written "bundle": module state survives between invocations of a warm worker.
    await writeFile(
      bundle,
      `let calls = 0;
       class ProbeFailedError extends Error { constructor(m) { super(m); this.name = new.target.name; } }
       export const handler = async (event, context) => {
         calls += 1;
         if (event.fail) throw new ProbeFailedError('asked to fail');
         if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
         return { calls, table: process.env.CATALOG_TABLE_NAME, region: process.env.AWS_REGION,
           s3: process.env.AWS_ENDPOINT_URL_S3, remaining: context.getRemainingTimeInMillis(),
           name: context.functionName };
       };`,
    );
    const cfg = offlineConfig(scratch, { catalogTable: 'c' });
    runtime = await startBundledFunctions(
      cfg,
      [
        {
          name: 'probe',
          entry: 'unused',
          timeoutMs: 1_000,
          memorySize: 128,
          environment: { CATALOG_TABLE_NAME: 'cat' },
        },
      ],
      [{ name: 'probe', path: bundle }],
      { maxWorkersPerFunction: 2 },
    );
  });

  afterAll(async () => {
    await runtime?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const probe = () => runtime.registry.probe ?? expect.fail('no probe function');

  it('reuses one warm worker, with the function environment and a Lambda-like context', async () => {
    const first = (await invokeLocal(probe(), {}, 'probe')) as Record<string, unknown>;
    const second = (await invokeLocal(probe(), {}, 'probe')) as Record<string, unknown>;
    expect(first).toMatchObject({
      calls: 1,
      table: 'cat',
      region: 'us-east-1',
      s3: 'http://127.0.0.1:3',
      name: 'probe',
    });
    expect(second.calls).toBe(2);
    expect(first.remaining).toBeGreaterThan(500);
    expect(first.remaining).toBeLessThanOrEqual(1_000);
    expect(runtime.workers('probe')).toBe(1);
  });

  it('overlapping invocations get more workers, up to the cap', async () => {
    await Promise.all([1, 2, 3].map(() => invokeLocal(probe(), { sleepMs: 100 }, 'probe')));
    expect(runtime.workers('probe')).toBe(2);
  });

  it('an error crosses the thread boundary as errorType/errorMessage', async () => {
    await expect(invokeLocal(probe(), { fail: true }, 'probe')).rejects.toMatchObject({
      name: 'ProbeFailedError',
      message: 'asked to fail',
    });
  });

  it('an invocation that outlives its budget is Sandbox.Timedout; the next one gets a fresh worker', async () => {
    await expect(invokeLocal(probe(), { sleepMs: 5_000 }, 'probe')).rejects.toMatchObject({
      name: 'Sandbox.Timedout',
      message: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
    });
    const after = (await invokeLocal(probe(), {}, 'probe')) as Record<string, unknown>;
    expect(after.table).toBe('cat');
  });
});
