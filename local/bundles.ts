import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { BUNDLE_FILE, esbuildOptions } from '../cdk/bundling';
import { RewindError } from '../functions/core/errors';
import { allSpecs } from '../functions/specs';
import { LOCAL_ACCOUNT_ID, type LocalConfig } from './clients';
import { localEnvironment, localTimeoutMs } from './functions';
import type { LocalFunction, LocalFunctionRegistry, LocalInvocationContext } from './sfn-runner';

/**
 * `rewind local start --bundled`: the local cloud runs the functions' esbuild bundles — built
 * with the options CDK deploys (cdk/bundling.ts) — instead of the TypeScript sources. Each
 * function runs like Lambda runs it: in a worker thread whose `process.env` is the function's
 * environment (plus region, credentials and `AWS_ENDPOINT_URL_*` pointing at the emulators),
 * warm between invocations, terminated when an invocation outlives its budget.
 */

const REPO_ROOT = resolve(import.meta.dirname, '..');
const WORKER_ENTRY = resolve(import.meta.dirname, 'bundle-worker.mjs');

/** What the bundled registry needs to know of one function. */
export interface BundledFunctionSpec {
  name: string;
  /** Handler module, relative to the repository root. */
  entry: string;
  timeoutMs: number;
  memorySize: number;
  /** The function's own variables (what CDK passes as `environment`), for the local cloud. */
  environment: Record<string, string>;
}

export interface BuiltBundle {
  name: string;
  path: string;
}

export interface BuildResult {
  bundles: BuiltBundle[];
  ms: number;
}

/** `<dir>/bundles`: where the local cloud keeps its bundles. */
export const bundleRoot = (dir: string) => join(resolve(dir), 'bundles');

/**
 * Build `<outDir>/<name>/index.mjs` for every function with esbuild and the deployed options
 * (cdk/bundling.ts `esbuildOptions`). Builds run in parallel in esbuild's service.
 */
export async function buildBundles(
  functions: Pick<BundledFunctionSpec, 'name' | 'entry'>[],
  outDir: string,
): Promise<BuildResult> {
  const started = performance.now();
  await rm(outDir, { recursive: true, force: true });
  const bundles = await Promise.all(
    functions.map(async ({ name, entry }) => {
      const path = join(outDir, name, BUNDLE_FILE);
      await build({ ...esbuildOptions(resolve(REPO_ROOT, entry), path), absWorkingDir: REPO_ROOT });
      return { name, path };
    }),
  );
  return { bundles, ms: performance.now() - started };
}

/** Lambda's message when an invocation outlives the function's timeout. */
export class SandboxTimedoutError extends Error {
  constructor(requestId: string, timeoutMs: number) {
    super(`RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

/** An error as it crossed the thread boundary: Lambda's `{errorType, errorMessage}`. */
export class BundledFunctionError extends Error {
  constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(errorMessage);
    this.name = errorType;
    if (trace.length) this.stack = trace.join('\n');
  }
}

type Reply =
  | { id: string; ok: true; result: string }
  | { id: string; ok: false; errorType: string; errorMessage: string; trace?: string[] };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One warm container: a worker running one invocation at a time. */
class Container {
  readonly worker: Worker;
  busy = false;
  dead = false;
  private pending: { id: string; callbacks: Pending } | undefined;

  constructor(
    bundle: string,
    spec: BundledFunctionSpec,
    env: Record<string, string>,
    region: string,
    log: WriteStream,
  ) {
    this.worker = new Worker(WORKER_ENTRY, {
      env,
      // A clean runtime: no tsx loader or test hooks inherited from this process.
      execArgv: [],
      workerData: {
        bundle,
        functionName: spec.name,
        memorySize: spec.memorySize,
        region,
        accountId: LOCAL_ACCOUNT_ID,
      },
      stdout: true,
      stderr: true,
    });
    // Lambda's stdout/stderr go to CloudWatch Logs; here, to <dir>/logs/<name>.log.
    this.worker.stdout.pipe(log, { end: false });
    this.worker.stderr.pipe(log, { end: false });
    this.worker.on('message', (message: Reply | { ready: true }) => {
      if (!('id' in message) || message.id !== this.pending?.id) return;
      const { callbacks } = this.pending;
      this.pending = undefined;
      if (message.ok) callbacks.resolve(JSON.parse(message.result));
      else callbacks.reject(new BundledFunctionError(message.errorType, message.errorMessage, message.trace));
    });
    const fail = (error: Error) => {
      this.dead = true;
      const pending = this.pending;
      this.pending = undefined;
      pending?.callbacks.reject(error);
    };
    this.worker.on('error', (error) => fail(new BundledFunctionError('Runtime.ExitError', error.message)));
    this.worker.on('exit', (code) =>
      fail(new BundledFunctionError('Runtime.ExitError', `RequestId: worker exited with code ${code}`)),
    );
  }

  invoke(event: unknown, remainingMs: number, requestId: string): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending = { id, callbacks: { resolve, reject } };
      this.worker.postMessage({ id, event, remainingMs, requestId });
    });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

export interface BundledRuntimeOptions {
  /** Warm workers per function at most (invocations beyond wait for one): default 2 × cores, ≥ 4. */
  maxWorkersPerFunction?: number;
  /** Folder for the functions' log files (default `<cfg.dir>/logs`). */
  logDir?: string;
}

/**
 * The environment a bundled function sees: its own variables, then what Lambda and the SDK
 * need to reach the local cloud. `kinesisEndpoint` is the HTTP/2 bridge (the Kinesis client
 * speaks HTTP/2 by default; kinesalite only HTTP/1.1).
 */
export function workerEnvironment(
  cfg: LocalConfig,
  spec: BundledFunctionSpec,
  kinesisEndpoint: string,
): Record<string, string> {
  return {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: cfg.region,
    AWS_DEFAULT_REGION: cfg.region,
    AWS_ACCESS_KEY_ID: cfg.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: cfg.credentials.secretAccessKey,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
    POWERTOOLS_SERVICE_NAME: `rewind-${spec.name}`,
    POWERTOOLS_METRICS_NAMESPACE: 'Rewind',
    // Node 20 runs the local cloud; Lambda runs a newer Node. The SDK's notice is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...spec.environment,
    // The SDK's standard service-specific endpoint variables. S3 goes path-style by itself:
    // the endpoint is an IP address (127.0.0.1), for which the S3 endpoint rules never use
    // virtual-hosted buckets.
    AWS_ENDPOINT_URL_DYNAMODB: cfg.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: cfg.endpoints.s3,
    AWS_ENDPOINT_URL_KINESIS: kinesisEndpoint,
    AWS_ENDPOINT_URL_SFN: cfg.endpoints.stepfunctions,
    AWS_ENDPOINT_URL_LAMBDA: cfg.endpoints.lambda,
    // s3rver stores aws-chunked framing inside streamed uploads otherwise (LOCAL-STACK.md).
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

/** Warm workers of one function; more (up to the cap) when invocations overlap. */
class FunctionPool implements LocalFunction {
  readonly timeoutMs: number;
  private readonly idle: Container[] = [];
  private readonly all = new Set<Container>();
  private readonly waiting: ((container: Container) => void)[] = [];
  private closed = false;

  constructor(
    private readonly spec: BundledFunctionSpec,
    private readonly bundle: string,
    private readonly env: Record<string, string>,
    private readonly region: string,
    private readonly maxWorkers: number,
    private readonly log: WriteStream,
  ) {
    this.timeoutMs = spec.timeoutMs;
  }

  get workers(): number {
    return this.all.size;
  }

  private async acquire(): Promise<Container> {
    if (this.closed) throw new BundledFunctionError('Runtime.Unavailable', 'the local cloud is stopping');
    for (let c = this.idle.pop(); c; c = this.idle.pop()) if (!c.dead) return c;
    if (this.all.size < this.maxWorkers) return this.spawn();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private spawn(): Container {
    const container = new Container(this.bundle, this.spec, this.env, this.region, this.log);
    this.all.add(container);
    container.worker.once('exit', () => this.all.delete(container));
    return container;
  }

  private release(container: Container): void {
    container.busy = false;
    const next = this.waiting.shift();
    if (!next) {
      if (!container.dead) this.idle.push(container);
      return;
    }
    // A timed-out container is gone: the next caller gets a fresh one (a cold start).
    if (container.dead) this.all.delete(container);
    next(container.dead ? this.spawn() : container);
  }

  handler = async (payload: unknown, context: LocalInvocationContext): Promise<unknown> => {
    const container = await this.acquire();
    container.busy = true;
    const remainingMs = context.getRemainingTimeInMillis();
    const requestId = (context as Partial<{ awsRequestId: string }>).awsRequestId ?? randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Lambda throws the sandbox away; so do we (a fresh worker serves the next invocation).
        void container.terminate();
        reject(new SandboxTimedoutError(requestId, this.timeoutMs));
      }, remainingMs);
    });
    try {
      return await Promise.race([container.invoke(payload, remainingMs, requestId), timedOut]);
    } finally {
      clearTimeout(timer);
      this.release(container);
    }
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((c) => c.terminate()));
    this.all.clear();
  }
}

/** An HTTP/2 (h2c) front for an HTTP/1.1 server: what the default Kinesis client can talk to. */
export async function startHttp2Bridge(target: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Http2Server = createHttp2Server((req, res) => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!name.startsWith(':')) headers[name] = value;
    headers.host = req.headers[':authority'] ?? upstream.host;
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined && !/^(connection|keep-alive|transfer-encoding|upgrade)$/i.test(name))
            out[name] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(error.message);
    });
    req.pipe(forward);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export interface BundledFunctions {
  registry: LocalFunctionRegistry;
  /** Workers alive per function (tests: warm reuse). */
  workers(name: string): number;
  stop(): Promise<void>;
}

/** The registry of bundled functions: `bundles` (by name) run in worker pools. */
export async function startBundledFunctions(
  cfg: LocalConfig,
  specs: BundledFunctionSpec[],
  bundles: BuiltBundle[],
  options: BundledRuntimeOptions = {},
): Promise<BundledFunctions> {
  const maxWorkers = options.maxWorkersPerFunction ?? Math.max(4, 2 * availableParallelism());
  const logDir = options.logDir ?? join(cfg.dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const bridge = await startHttp2Bridge(cfg.endpoints.kinesis);
  const paths = new Map(bundles.map((b) => [b.name, b.path]));
  const pools = new Map<string, FunctionPool>();
  const logs: WriteStream[] = [];
  for (const spec of specs) {
    const path = paths.get(spec.name);
    if (!path) throw new RewindError(`no bundle built for function ${spec.name}`);
    const log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
    logs.push(log);
    const env = workerEnvironment(cfg, spec, bridge.endpoint);
    pools.set(spec.name, new FunctionPool(spec, path, env, cfg.region, maxWorkers, log));
  }
  let stopping: Promise<void> | undefined;
  return {
    registry: Object.fromEntries(pools),
    workers: (name) => pools.get(name)?.workers ?? 0,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all([...pools.values()].map((p) => p.close()));
        await bridge.stop();
        await Promise.all(logs.map((l) => new Promise<void>((done) => l.end(done))));
      })();
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Which functions, with which environment: from the function specs (functions/specs.ts, and
// local/functions.ts `localEnvironment`: the exact variables a function gets locally).

/** Every function with the environment and timeout it has locally (the sources registry's own). */
export async function bundledFunctionSpecs(cfg: LocalConfig): Promise<BundledFunctionSpec[]> {
  return allSpecs.map((spec) => ({
    name: spec.name,
    entry: spec.entry,
    timeoutMs: localTimeoutMs(spec),
    memorySize: spec.memorySize,
    environment: localEnvironment(spec, cfg),
  }));
}
