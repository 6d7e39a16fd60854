import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import { DynamoRestoreCatalog } from '../functions/adapters/dynamo-restore-catalog';
import { RewindError } from '../functions/core/errors';
import {
  type BuildResult,
  type BundledFunctions,
  type BundledRuntimeOptions,
  buildBundles,
  bundledFunctionSpecs,
  bundleRoot,
  startBundledFunctions,
} from './bundles';
import {
  dynamoClient,
  LOCAL_ACCOUNT_ID,
  LOCAL_BUCKET,
  LOCAL_CATALOG_TABLE,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalConfig,
  readLocalConfig,
  removeLocalConfig,
  s3Client,
  writeLocalConfig,
} from './clients';
import {
  type ControlPlane,
  type LocalFunctionRegistry,
  type LocalStateMachine,
  type RunnerOptions,
  startControlPlane,
} from './control-plane';
import { emulatorStateDirs, freePort, type RunningEmulators, startEmulators } from './emulators';
import { BRIDGE_POSITIONS_FILE, startLocalEventSources } from './event-sources';
import { RESTORE_STATE_MACHINE, SNAPSHOT_STATE_MACHINE } from './functions';
import { failInterruptedWork } from './interrupted';
import { startLocalSchedules } from './schedules';

export interface LocalCloudOptions {
  /**
   * State folder: local.json and every emulator's data (local/emulators.ts). Durable: a start
   * on an existing folder resumes its tables, catalog and objects; `rewind local reset` deletes it.
   */
  dir: string;
  /** Builds the Lambda stand-ins once endpoints are known (they need clients for the emulators). */
  functions?: (cfg: LocalConfig) => LocalFunctionRegistry;
  stateMachines?: LocalStateMachine[];
  runner?: RunnerOptions;
  /** Process recorded in local.json, which `rewind local stop` signals (default: this one). */
  pid?: number;
  /** Run the EventBridge stand-ins (backup crons, checkpoint advancer, daily sweep); `rewind local start` does. */
  schedules?: boolean;
  /**
   * Run the functions' esbuild bundles (built into `<dir>/bundles` with the deployed options) in
   * worker threads instead of `functions` (the TypeScript sources in-process): `--bundled`.
   */
  bundled?: boolean | BundledRuntimeOptions;
  /** Told once the bundles are built (`--bundled`). */
  onBundlesBuilt?: (built: BuildResult) => void;
}

export interface LocalCloud {
  config: LocalConfig;
  emulators: RunningEmulators;
  controlPlane: ControlPlane;
  /** Stops control plane and emulators, removes local.json. Safe to call twice. */
  stop(): Promise<void>;
}

/** A live local cloud already owns this folder. */
export class LocalCloudAlreadyRunningError extends RewindError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`a local cloud (pid ${pid}) already runs in ${dir}: run \`rewind local stop\` first`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuse to start over a running cloud; a local.json left by a dead process is just stale. */
async function assertFolderFree(dir: string): Promise<void> {
  const existing = await readLocalConfig(dir).catch(() => undefined);
  if (existing?.pid && existing.pid !== process.pid && isAlive(existing.pid))
    throw new LocalCloudAlreadyRunningError(dir, existing.pid);
}

/** Swallow the error whose name or message matches: the resource is already there. */
const ignoreIf = (pattern: RegExp) => (error: unknown) => {
  const e = error as { name?: string; message?: string };
  if (pattern.test(`${e.name} ${e.message}`)) return undefined;
  throw error;
};

async function createResources(cfg: LocalConfig): Promise<void> {
  const ddb = dynamoClient(cfg);
  const s3 = s3Client(cfg);
  try {
    // A resumed folder already has both: creating them again is a no-op.
    await s3
      .send(new CreateBucketCommand({ Bucket: cfg.bucket }))
      .catch(ignoreIf(/BucketAlreadyOwnedByYou|BucketAlreadyExists/));
    await ddb
      .send(
        new CreateTableCommand({
          TableName: cfg.catalogTable,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      )
      .catch(ignoreIf(/ResourceInUseException|already exists/));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 30 }, { TableName: cfg.catalogTable });
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}

/**
 * `rewind local reset`: delete what a stopped local cloud keeps in `dir` (every emulator's data,
 * the bridge positions, local.json). Refuses while a local cloud runs there.
 */
export async function resetLocalState(dir: string): Promise<string[]> {
  const absolute = resolve(dir);
  const existing = await readLocalConfig(absolute).catch(() => undefined);
  if (existing?.pid && isAlive(existing.pid)) throw new LocalCloudAlreadyRunningError(absolute, existing.pid);
  const removed = [
    ...Object.values(emulatorStateDirs(absolute)),
    join(absolute, BRIDGE_POSITIONS_FILE),
    join(absolute, 'local.json'),
  ];
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}

/** A resumed folder: backups and restores a stop or crash interrupted end FAILED (local/interrupted.ts). */
async function failWorkOfEarlierRun(
  config: LocalConfig,
  registry: LocalFunctionRegistry,
  plane: ControlPlane,
) {
  const dynamodb = dynamoClient(config);
  try {
    const marked = await failInterruptedWork({
      catalog: new DynamoCatalog(dynamodb, config.catalogTable),
      restoreCatalog: new DynamoRestoreCatalog(dynamodb, config.catalogTable),
      registry,
      stateMachineArn: plane.stateMachineArn,
      snapshotMachine: SNAPSHOT_STATE_MACHINE,
      restoreMachine: RESTORE_STATE_MACHINE,
      region: config.region,
      account: LOCAL_ACCOUNT_ID,
    });
    for (const line of marked)
      process.stderr.write(`local cloud: ${line} was interrupted by the last stop: marked FAILED\n`);
  } finally {
    dynamodb.destroy();
  }
}

/** Start emulators, bucket, catalog table and control plane; write `<dir>/local.json`. */
export async function startLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const dir = resolve(opts.dir);
  await assertFolderFree(dir);
  const emulators = await startEmulators({ dir });
  let controlPlane: ControlPlane | undefined;
  let bundled: BundledFunctions | undefined;
  try {
    // The handlers need the final config (incl. the control plane's own endpoint, e.g. for
    // start-backup's StartExecution), so pick the port first and fill the registry after.
    const port = await freePort();
    const controlEndpoint = `http://127.0.0.1:${port}`;
    const config: LocalConfig = {
      endpoints: { ...emulators.endpoints, lambda: controlEndpoint, stepfunctions: controlEndpoint },
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS },
      bucket: LOCAL_BUCKET,
      catalogTable: LOCAL_CATALOG_TABLE,
      dir,
      pid: opts.pid ?? process.pid,
    };
    await createResources(config);
    if (opts.bundled) {
      const specs = await bundledFunctionSpecs(config);
      const built = await buildBundles(specs, bundleRoot(dir));
      opts.onBundlesBuilt?.(built);
      bundled = await startBundledFunctions(
        config,
        specs,
        built.bundles,
        typeof opts.bundled === 'object' ? opts.bundled : {},
      );
      Object.assign(config, { functions: 'bundled', bundleDir: bundleRoot(dir) });
    } else config.functions = 'sources';
    const registry: LocalFunctionRegistry = {};
    controlPlane = await startControlPlane({
      functions: registry,
      stateMachines: opts.stateMachines ?? [],
      region: config.region,
      port,
      ...(opts.runner ? { runner: opts.runner } : {}),
    });
    Object.assign(registry, bundled ? bundled.registry : (opts.functions?.(config) ?? {}));
    await failWorkOfEarlierRun(config, registry, controlPlane);
    await writeLocalConfig(config);
    // Change bridge + Kinesis event-source poller (issue 3): DynamoDB Streams → Kinesis → ship-log.
    const eventSources = startLocalEventSources(config, registry);
    const schedules = opts.schedules
      ? startLocalSchedules(new DynamoCatalog(dynamoClient(config), config.catalogTable), registry)
      : undefined;
    const plane = controlPlane;
    const running = bundled;
    let stopping: Promise<void> | undefined;
    return {
      config,
      emulators,
      controlPlane: plane,
      stop: () => {
        stopping ??= (async () => {
          await removeLocalConfig(dir);
          await schedules?.stop();
          await eventSources.stop();
          await plane.stop();
          await running?.stop();
          await emulators.stop();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await controlPlane?.stop();
    await bundled?.stop();
    await emulators.stop();
    throw err;
  }
}

export interface LocalFunctionsModule {
  createLocalFunctions(cfg: LocalConfig): LocalFunctionRegistry;
  localStateMachines(): LocalStateMachine[];
}

/**
 * Import local/functions.ts (the handlers and state machines, written separately), or
 * undefined while it does not exist. The specifier is a variable so tsc does not require it.
 */
export async function loadLocalFunctions(): Promise<LocalFunctionsModule | undefined> {
  const specifier = './functions';
  try {
    const mod = (await import(specifier)) as Partial<LocalFunctionsModule>;
    if (typeof mod.createLocalFunctions !== 'function' || typeof mod.localStateMachines !== 'function')
      throw new RewindError('local/functions must export createLocalFunctions and localStateMachines');
    return mod as LocalFunctionsModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' && /local[\\/]functions/.test(String(err));
    if (missing) return undefined;
    throw err;
  }
}

/** Options for a cloud running the real Rewind functions and state machines. */
export async function rewindCloudOptions(dir: string): Promise<LocalCloudOptions> {
  const mod = await loadLocalFunctions();
  return mod
    ? { dir, functions: mod.createLocalFunctions, stateMachines: mod.localStateMachines() }
    : { dir };
}

/**
 * Run the local cloud until SIGINT/SIGTERM, then stop it cleanly. This is the body of
 * `rewind local start` (foreground) and of the detached process (local/cloud-process.ts).
 */
export async function runLocalCloudForeground(
  dir: string,
  log: (line: string) => void = console.log,
  options: { bundled?: boolean } = {},
) {
  const cloud = await startLocalCloud({
    ...(await rewindCloudOptions(dir)),
    pid: process.pid,
    schedules: true,
    bundled: options.bundled ?? false,
    onBundlesBuilt: ({ bundles, ms }) =>
      log(`built ${bundles.length} function bundles in ${(ms / 1000).toFixed(1)} s (${bundleRoot(dir)})`),
  });
  log(`functions: ${cloud.config.functions}`);
  log(`local cloud ready (pid ${process.pid}); config in ${join(cloud.config.dir, 'local.json')}`);
  for (const [service, url] of Object.entries(cloud.config.endpoints)) log(`  ${service.padEnd(14)}${url}`);
  await new Promise<void>((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`${signal}: stopping local cloud`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await cloud.stop();
  log('local cloud stopped');
}
