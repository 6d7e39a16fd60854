import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RewindError } from '../functions/core/errors';
import { EXECUTION_ENDED_FUNCTION, executionStatusChange } from './execution-events';

export { EXECUTION_ENDED_FUNCTION, executionStatusChange } from './execution-events';

import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './clients';
import {
  checkInvokeRequestSize,
  type ExecutionOutcome,
  functionNameOf,
  type InvocationType,
  InvokeRequestTooLargeError,
  invokeLocal,
  type LocalFunctionRegistry,
  type LocalStateMachine,
  LocalStateMachineRunner,
  lambdaErrorDocument,
  loadDefinition,
  lookupFunction,
  maxTimeoutFromEnv,
  PAYLOAD_LIMIT_BYTES,
  type RunnerOptions,
} from './sfn-runner';

export type { LocalFunctionRegistry, LocalStateMachine, RunnerOptions } from './sfn-runner';

export interface ControlPlaneOptions {
  /** Looked up on every call, so the caller may fill it after the server is up. */
  functions: LocalFunctionRegistry;
  stateMachines: LocalStateMachine[];
  region?: string;
  accountId?: string;
  /** Port to listen on (loopback); 0 or unset picks a free one. */
  port?: number;
  runner?: RunnerOptions;
  /** How long stop() waits for in-flight handlers (default 10 s). */
  stopGraceMs?: number;
  /**
   * Cap on every invocation's budget (Invoke and state machine tasks), in ms; each function
   * otherwise gets its own timeoutMs. Default: REWIND_LOCAL_MAX_TIMEOUT_MS from the environment.
   */
  maxTimeoutMs?: number;
  /** Receives the status-change event of executions that end other than SUCCEEDED (default `execution-ended`). */
  executionEndedFunction?: string;
}

export interface ControlPlane {
  endpoint: string;
  stateMachineArn(name: string): string;
  /** Resolves once no execution and no Lambda invocation is in flight. */
  waitForIdle(): Promise<void>;
  /** Aborts running executions, gives in-flight invocations a grace period, closes the server. */
  stop(): Promise<void>;
}

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: Status;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  abort: () => void;
}

interface Machine {
  name: string;
  arn: string;
  runner: LocalStateMachineRunner;
  createdAt: Date;
}

/** An API error, sent in the shape the SDKs parse (status, x-amzn-ErrorType / __type, message). */
class LocalApiError extends RewindError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const epochSeconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The local AWS control plane: answers Lambda Invoke for the registry's functions and runs Step
 * Functions executions of the registered ASL files, so CLI and handlers use real SDK clients.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const region = opts.region ?? LOCAL_REGION;
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const registry = opts.functions;
  const maxTimeoutMs = opts.maxTimeoutMs ?? maxTimeoutFromEnv();
  const runnerOptions: RunnerOptions = {
    ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
    ...opts.runner,
  };
  const stateMachineArn = (name: string) => `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  const machines = new Map<string, Machine>();
  for (const spec of opts.stateMachines) {
    const { text, definition } = await loadDefinition(spec);
    const runner = new LocalStateMachineRunner(text, definition, registry, runnerOptions);
    machines.set(stateMachineArn(spec.name), {
      name: spec.name,
      arn: stateMachineArn(spec.name),
      runner,
      createdAt: new Date(),
    });
  }
  const executions = new Map<string, Execution>();
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inflight.add(work);
    const forget = () => inflight.delete(work);
    work.then(forget, forget);
    return work;
  };

  async function invoke(req: IncomingMessage, res: ServerResponse, encodedName: string): Promise<void> {
    const target = decodeURIComponent(encodedName);
    const fn = lookupFunction(registry, target);
    const body = await readBody(req);
    if (!fn) {
      const arn = `arn:aws:lambda:${region}:${account}:function:${functionNameOf(target)}`;
      throw new LocalApiError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const invocationType: InvocationType = type === 'Event' ? 'Event' : 'RequestResponse';
    try {
      checkInvokeRequestSize(Buffer.byteLength(body), invocationType);
    } catch (err) {
      if (err instanceof InvokeRequestTooLargeError)
        throw new LocalApiError(err.status, err.code, err.message);
      throw err;
    }
    let payload: unknown = {};
    try {
      if (body.trim()) payload = JSON.parse(body);
    } catch {
      throw new LocalApiError(
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json',
      );
    }
    if (type === 'DryRun') return send(res, 204, undefined);
    const run = track(
      invokeLocal(fn, payload, functionNameOf(target), {
        invocationType,
        ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
      }),
    );
    if (type === 'Event') {
      run.catch(() => {}); // like Lambda's async invoke: the caller never sees the outcome
      return send(res, 202, undefined);
    }
    const headers = { 'x-amz-executed-version': '$LATEST' };
    try {
      send(res, 200, await run, headers);
    } catch (err) {
      send(res, 200, lambdaErrorDocument(err), { ...headers, 'x-amz-function-error': 'Unhandled' });
    }
  }

  function machineOf(arn: unknown): Machine {
    const machine = machines.get(String(arn));
    if (!machine)
      throw new LocalApiError(400, 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  function executionOf(arn: unknown): Execution {
    const execution = executions.get(String(arn));
    if (!execution)
      throw new LocalApiError(400, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  function startExecution(request: Record<string, unknown>) {
    const machine = machineOf(request.stateMachineArn);
    const name = String(request.name ?? randomUUID());
    if (name.length < 1 || name.length > 80)
      throw new LocalApiError(400, 'InvalidName', `Invalid Name: '${name}'`);
    const inputText = typeof request.input === 'string' ? request.input : '{}';
    if (Buffer.byteLength(inputText) > PAYLOAD_LIMIT_BYTES)
      throw new LocalApiError(
        400,
        'InvalidExecutionInput',
        `input is larger than ${PAYLOAD_LIMIT_BYTES} bytes`,
      );
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch {
      throw new LocalApiError(
        400,
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: not JSON',
      );
    }
    const executionArn = `arn:aws:states:${region}:${account}:execution:${machine.name}:${name}`;
    const existing = executions.get(executionArn);
    if (existing) {
      // Step Functions: same name and input while running is idempotent; anything else conflicts.
      if (existing.status === 'RUNNING' && existing.input === inputText)
        return { executionArn, startDate: epochSeconds(existing.startDate) };
      throw new LocalApiError(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const startDate = new Date();
    const context = {
      Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${account}:role/rewind-local` },
      StateMachine: { Id: machine.arn, Name: machine.name },
    };
    const { outcome, abort } = machine.runner.run(input, context);
    const execution: Execution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input: inputText,
      startDate,
      abort,
    };
    executions.set(executionArn, execution);
    track(outcome).then((result: ExecutionOutcome) => {
      execution.stopDate = new Date();
      execution.status = result.status;
      if (result.status === 'SUCCEEDED') execution.output = JSON.stringify(result.output ?? null);
      else Object.assign(execution, { error: result.error, cause: result.cause });
      if (result.status !== 'SUCCEEDED') publishStatusChange(execution);
    });
    return { executionArn, startDate: epochSeconds(startDate) };
  }

  /**
   * What the stack's EventBridge rule does on AWS: an execution that ended FAILED, TIMED_OUT or
   * ABORTED is sent, as a "Step Functions Execution Status Change" event, to the
   * execution-ended function (asynchronously, like an EventBridge target), when registered.
   */
  function publishStatusChange(e: Execution): void {
    const fn = lookupFunction(registry, opts.executionEndedFunction ?? EXECUTION_ENDED_FUNCTION);
    if (!fn) return;
    const event = executionStatusChange(e, region, account);
    const invokeOptions = {
      invocationType: 'Event' as const,
      ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
    };
    track(invokeLocal(fn, event, EXECUTION_ENDED_FUNCTION, invokeOptions)).catch(() => {});
  }

  const summary = (e: Execution) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    stopDate: epochSeconds(e.stopDate),
  });

  const operations: Record<string, (request: Record<string, unknown>) => unknown> = {
    StartExecution: startExecution,
    DescribeExecution: (request) => {
      const e = executionOf(request.executionArn);
      return { ...summary(e), input: e.input, output: e.output, error: e.error, cause: e.cause };
    },
    StopExecution: (request) => {
      const e = executionOf(request.executionArn);
      if (e.status === 'RUNNING') e.abort();
      return { stopDate: epochSeconds(new Date()) };
    },
    ListExecutions: (request) => {
      const machine = machineOf(request.stateMachineArn);
      const all = [...executions.values()]
        .filter((e) => e.stateMachineArn === machine.arn)
        .filter((e) => !request.statusFilter || e.status === request.statusFilter)
        .reverse(); // newest first, as Step Functions lists them
      const start = Number(request.nextToken ?? 0);
      const size = Number(request.maxResults || 100);
      const page = all.slice(start, start + size);
      const more = start + size < all.length;
      return { executions: page.map(summary), nextToken: more ? String(start + size) : undefined };
    },
    DescribeStateMachine: (request) => {
      const m = machineOf(request.stateMachineArn);
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        definition: m.runner.definitionText,
        roleArn: `arn:aws:iam::${account}:role/rewind-local`,
        type: 'STANDARD',
        creationDate: epochSeconds(m.createdAt),
      };
    },
    ListStateMachines: () => ({
      stateMachines: [...machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: 'STANDARD',
        creationDate: epochSeconds(m.createdAt),
      })),
    }),
  };

  async function stepFunctions(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    const op = operations[target.replace(/^AWSStepFunctions\./, '')];
    const body = await readBody(req);
    if (!op)
      throw new LocalApiError(
        400,
        'UnknownOperationException',
        `operation ${target} is not supported locally`,
      );
    let request: Record<string, unknown>;
    try {
      request = body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      throw new LocalApiError(400, 'SerializationException', 'request body is not JSON');
    }
    send(res, 200, op(request), { 'content-type': 'application/x-amz-json-1.0' });
  }

  const server = createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const invokeMatch = INVOKE_PATH.exec(path);
    const handled =
      req.method === 'POST' && invokeMatch?.[1]
        ? invoke(req, res, invokeMatch[1])
        : req.method === 'POST' && typeof target === 'string'
          ? stepFunctions(req, res, target)
          : Promise.reject(
              new LocalApiError(404, 'UnknownOperationException', `no route for ${req.method} ${path}`),
            );
    handled.catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      const api =
        err instanceof LocalApiError ? err : new LocalApiError(500, 'ServiceException', String(err));
      // Lambda reads the code from x-amzn-ErrorType, Step Functions (awsJson1_0) from __type.
      send(
        res,
        api.status,
        { __type: api.code, Type: 'User', message: api.message },
        { 'x-amzn-errortype': api.code },
      );
    });
  });
  // Longer than the SDK's idle sockets live, so a reused keep-alive socket is not reset under it.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;

  async function waitForIdle(): Promise<void> {
    while (inflight.size) await Promise.allSettled([...inflight]);
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stateMachineArn,
    waitForIdle,
    stop: () => {
      stopping ??= (async () => {
        for (const e of executions.values()) if (e.status === 'RUNNING') e.abort();
        const grace = new Promise((ok) => setTimeout(ok, opts.stopGraceMs ?? 10_000).unref());
        await Promise.race([Promise.allSettled([...inflight]), grace]);
        server.closeAllConnections();
        await new Promise<void>((ok) => server.close(() => ok()));
      })();
      return stopping;
    },
  };
}
