import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { RewindError } from '../functions/core/errors';
import {
  dynamoClient,
  kinesisClient,
  LocalCloudNotRunningError,
  type LocalConfig,
  readLocalConfig,
  removeLocalConfig,
  s3Client,
} from '../local/clients';
import { LocalCloudAlreadyRunningError } from '../local/cloud';

/** Process management for `rewind local start --detach` and `rewind local stop`. */

const REPO_ROOT = resolve(import.meta.dirname, '..');
const CLOUD_ENTRY = join(REPO_ROOT, 'local', 'cloud-process.ts');
export const CLOUD_LOG = 'cloud.log';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` still looks like a Rewind local cloud (guards against a pid recycled since
 * local.json was written). Where /proc is unavailable, trust local.json.
 */
function looksLikeRewind(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return /cloud-process|rewind|cli[\\/]main/.test(cmdline);
  } catch {
    return true;
  }
}

/** The config of a live local cloud in `dir`, or undefined (no local.json, or a stale one). */
export async function runningCloud(dir: string): Promise<LocalConfig | undefined> {
  const config = await readLocalConfig(dir).catch((error: unknown) => {
    if (error instanceof LocalCloudNotRunningError) return undefined;
    throw error;
  });
  if (!config) return undefined;
  if (config.pid !== undefined && !(isAlive(config.pid) && looksLikeRewind(config.pid))) return undefined;
  return config;
}

/** Poll until `<dir>/local.json` is written by `pid` (a cloud that finished starting). */
export async function waitForConfig(
  dir: string,
  pid: number,
  deadline: number,
  gaveUp: () => string | undefined,
): Promise<LocalConfig> {
  for (;;) {
    const config = await readLocalConfig(dir).catch(() => undefined);
    if (config?.pid === pid) return config;
    const reason = gaveUp();
    if (reason) throw new RewindError(reason);
    if (Date.now() > deadline) throw new RewindError(`local cloud did not start within the time limit`);
    await sleep(200);
  }
}

/** Each emulator answers a request (one attempt each, retried until the deadline). */
export async function probeEndpoints(config: LocalConfig, deadline: number): Promise<void> {
  const tuning = { maxAttempts: 1, requestTimeoutMs: 2_000 };
  const dynamodb = dynamoClient(config, tuning);
  const kinesis = kinesisClient(config, tuning);
  const s3 = s3Client(config, tuning);
  try {
    for (;;) {
      try {
        await Promise.all([
          dynamodb.send(new ListTablesCommand({ Limit: 1 })),
          kinesis.send(new ListStreamsCommand({ Limit: 1 })),
          s3.send(new HeadBucketCommand({ Bucket: config.bucket })),
        ]);
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new RewindError(`local cloud endpoints do not answer: ${String(error)}`, { cause: error });
        await sleep(250);
      }
    }
  } finally {
    dynamodb.destroy();
    kinesis.destroy();
    s3.destroy();
  }
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.slice(-2_000).trim() || '(empty)';
}

/**
 * Start the local cloud in its own detached process (`local/cloud-process.ts --dir <dir>`,
 * run by Node with tsx's loader), logging to `<dir>/cloud.log`; resolve once it wrote
 * local.json and its endpoints answer. On failure the process is stopped and the log's tail
 * is in the error.
 */
export async function startDetached(
  dir: string,
  timeoutMs: number,
  options: { bundled?: boolean } = {},
): Promise<LocalConfig> {
  const absolute = resolve(dir);
  const live = await runningCloud(absolute);
  if (live) throw new LocalCloudAlreadyRunningError(absolute, live.pid ?? 0);
  await mkdir(absolute, { recursive: true });
  const logPath = join(absolute, CLOUD_LOG);
  const log = openSync(logPath, 'w');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  let exited: string | undefined;
  const child = spawn(
    process.execPath,
    ['--import', tsx, CLOUD_ENTRY, '--dir', absolute, ...(options.bundled ? ['--bundled'] : [])],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  child.once('exit', (code, signal) => {
    exited = `local cloud process exited (${signal ?? `code ${code}`}) while starting`;
  });
  child.once('error', (error) => {
    exited = `could not start the local cloud process: ${error.message}`;
  });
  const pid = child.pid;
  try {
    if (pid === undefined) throw new RewindError('could not start the local cloud process');
    const deadline = Date.now() + timeoutMs;
    const config = await waitForConfig(absolute, pid, deadline, () => exited);
    await probeEndpoints(config, deadline);
    child.unref();
    return config;
  } catch (error) {
    if (pid !== undefined && !exited) await stopProcess(pid, 10_000);
    const message = error instanceof Error ? error.message : String(error);
    throw new RewindError(`${message}\n--- ${logPath} (tail) ---\n${await logTail(logPath)}`, {
      cause: error,
    });
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * SIGTERM, wait up to `graceMs` for the process to exit, then SIGKILL its process group (a
 * detached cloud leads its own group) and the process. Its emulators die with it either way
 * (they run under PDEATHSIG, local/emulators.ts). Returns how it ended.
 */
export async function stopProcess(pid: number, graceMs: number): Promise<'terminated' | 'killed'> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (!isAlive(pid)) return 'terminated';
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  if (isAlive(pid)) throw new RewindError(`local cloud process ${pid} survived SIGKILL`);
  return 'killed';
}

export type StopOutcome =
  | { state: 'not-running' }
  | { state: 'stale'; pid: number }
  | { state: 'terminated' | 'killed'; pid: number };

/** Stop the local cloud of `dir`: no process left behind, local.json removed. */
export async function stopCloud(dir: string, graceMs: number): Promise<StopOutcome> {
  const config = await readLocalConfig(dir).catch((error: unknown) => {
    if (error instanceof LocalCloudNotRunningError) return undefined;
    throw error;
  });
  if (!config) return { state: 'not-running' };
  if (config.pid === undefined)
    throw new RewindError(
      `the local cloud in ${config.dir} runs inside another program (no pid in local.json): stop it there`,
    );
  if (!isAlive(config.pid) || !looksLikeRewind(config.pid)) {
    await removeLocalConfig(dir);
    return { state: 'stale', pid: config.pid };
  }
  const state = await stopProcess(config.pid, graceMs);
  // A graceful stop removes local.json itself; a killed process could not.
  await removeLocalConfig(dir);
  return { state, pid: config.pid };
}
