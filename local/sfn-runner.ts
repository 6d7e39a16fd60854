import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { RewindError } from '../functions/core/errors';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22) when a Task runs.
const promiseCtor = Promise as PromiseConstructor & { withResolvers?: () => unknown };
promiseCtor.withResolvers ??= <T>() => {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
};

/** What a local handler sees of Lambda's context. */
export interface LocalInvocationContext {
  functionName: string;
  awsRequestId: string;
  /**
   * Honest: this invocation's budget (the function's timeout, capped by
   * REWIND_LOCAL_MAX_TIMEOUT_MS) minus the time spent so far (Lambda's getRemainingTimeInMillis).
   */
  getRemainingTimeInMillis(): number;
  /**
   * Aborted when the invocation is cut off at its budget. An in-process handler cannot be killed
   * (its late result is ignored); a handler running elsewhere (a worker) can listen and terminate.
   */
  signal: AbortSignal;
}

/** A local stand-in for one Rewind Lambda function. */
export interface LocalFunction {
  /** The deployed timeout, in ms; each invocation's budget is this, capped by REWIND_LOCAL_MAX_TIMEOUT_MS. */
  timeoutMs: number;
  handler(payload: unknown, context: LocalInvocationContext): Promise<unknown>;
}

/** Local stand-ins for Rewind's Lambda functions, keyed by function name ('start-backup'). */
export type LocalFunctionRegistry = Record<string, LocalFunction>;

/** A registry entry from a bare handler (tests' fakes), with Lambda's maximum timeout. */
export const localFunction = (handler: LocalFunction['handler'], timeoutMs = 900_000): LocalFunction => ({
  timeoutMs,
  handler,
});

/** A registry of bare handlers (test doubles), each with Lambda's maximum timeout. */
export const bareRegistry = (handlers: Record<string, LocalFunction['handler']>): LocalFunctionRegistry =>
  Object.fromEntries(Object.entries(handlers).map(([name, handler]) => [name, localFunction(handler)]));

/** A state machine file and the values CDK would substitute into it (`${Name}` → value). */
export interface LocalStateMachine {
  name: string;
  aslPath: string;
  substitutions: Record<string, string>;
}

export interface RunnerOptions {
  /** Pause before every Retry, in ms, instead of IntervalSeconds × BackoffRate (default 100). */
  retryIntervalMs?: number;
  /** Duration of every Wait state, in ms; unset keeps the definition's durations. */
  waitMs?: number;
  /**
   * Timeout of Task states that set none. The library defaults to 60 s; on AWS such a Task has no
   * timeout of its own (TimeoutSeconds defaults to 99999999) and the function's budget ends it
   * with Sandbox.Timedout. Unset: the longest timer Node allows (~24 days), so the budget rules.
   */
  taskTimeoutSeconds?: number;
  /** Cap on every task invocation's budget, in ms; unset reads REWIND_LOCAL_MAX_TIMEOUT_MS. */
  maxTimeoutMs?: number;
}

/** Longest Task TimeoutSeconds whose timer Node can set (setTimeout holds at most 2^31-1 ms). */
const UNBOUNDED_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A state machine file cannot be used: unreadable, a placeholder without value, bad JSON. */
export class StateMachineDefinitionError extends RewindError {
  constructor(
    readonly aslPath: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`state machine ${aslPath}: ${problem}`, options);
  }
}

/**
 * An error raised inside the state machine the way AWS raises a failed Lambda task: the name is
 * the function's errorType (so Retry/Catch match `StaleStateError`), the message (→ Cause) is the
 * JSON error document Lambda returns.
 */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** Step Functions' limit on a state's input and output and an execution input (256 KiB, UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
/** Lambda: a synchronous (RequestResponse) Invoke request body is at most 6 MB. */
export const LAMBDA_SYNC_REQUEST_LIMIT_BYTES = 6 * 1024 * 1024;
/** Lambda: the limit its Function.ResponseSizeTooLarge message names for a synchronous response. */
export const LAMBDA_SYNC_RESPONSE_LIMIT_BYTES = 6_291_556;
/** Lambda: an asynchronous (Event) Invoke request body is at most 1 MB (256 KB until 2025). */
export const LAMBDA_ASYNC_REQUEST_LIMIT_BYTES = 1024 * 1024;
/** Environment variable capping every local invocation's budget, in ms. */
export const MAX_TIMEOUT_ENV = 'REWIND_LOCAL_MAX_TIMEOUT_MS';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

/** `arn:aws:lambda:r:a:function:name[:qualifier]` or `name` → `name`. */
export function functionNameOf(nameOrArn: string): string {
  const marker = nameOrArn.lastIndexOf('function:');
  const tail = marker >= 0 ? nameOrArn.slice(marker + 'function:'.length) : nameOrArn;
  return tail.split(':')[0] ?? tail;
}

/** Find a handler by name or ARN, with or without the stack's `rewind-` prefix. */
export function lookupFunction(
  registry: LocalFunctionRegistry,
  nameOrArn: string,
): LocalFunctionRegistry[string] | undefined {
  const name = functionNameOf(nameOrArn);
  const bare = name.startsWith('rewind-') ? name.slice('rewind-'.length) : name;
  return registry[name] ?? registry[bare] ?? registry[`rewind-${bare}`];
}

/** The document real Lambda returns when a handler throws (no trace for Lambda's own errors). */
export function lambdaErrorDocument(err: unknown): {
  errorType: string;
  errorMessage: string;
  trace?: string[];
} {
  const error = err instanceof Error ? err : new Error(String(err));
  if (error instanceof LambdaPlatformError) return { errorType: error.name, errorMessage: error.message };
  return {
    errorType: error.name || 'Error',
    errorMessage: error.message,
    trace: (error.stack ?? '').split('\n').slice(0, 20),
  };
}

/** REWIND_LOCAL_MAX_TIMEOUT_MS is not a positive whole number of milliseconds. */
export class LocalTimeoutSettingError extends RewindError {
  constructor(readonly value: string) {
    super(`${MAX_TIMEOUT_ENV}=${value}: expected a positive whole number of milliseconds`);
  }
}

/** The cap on invocation budgets from `env` (REWIND_LOCAL_MAX_TIMEOUT_MS), or undefined when unset. */
export function maxTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[MAX_TIMEOUT_ENV]?.trim();
  if (!raw) return undefined;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 1) throw new LocalTimeoutSettingError(raw);
  return ms;
}

/** One invocation's budget: the function's timeout, capped by `maxTimeoutMs`. */
export function invocationBudgetMs(fn: LocalFunction, maxTimeoutMs?: number): number {
  return Math.max(1, Math.min(fn.timeoutMs, maxTimeoutMs ?? Number.POSITIVE_INFINITY));
}

/**
 * A failure Lambda itself reports for an invocation (not thrown by the handler): its name is the
 * errorType, its message the errorMessage, and the error document carries no trace.
 */
export class LambdaPlatformError extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(errorMessage);
    this.name = errorType;
  }
}

/** An Invoke request body over Lambda's limit: HTTP 413 RequestEntityTooLargeException. */
export class InvokeRequestTooLargeError extends RewindError {
  readonly status = 413;
  readonly code = 'RequestEntityTooLargeException';
  constructor(
    readonly bytes: number,
    readonly invocationType: InvocationType,
  ) {
    super(
      invocationType === 'Event'
        ? `${bytes} byte payload is too large for the Event invocation type (limit ${LAMBDA_ASYNC_REQUEST_LIMIT_BYTES} bytes)`
        : `Request must be smaller than ${LAMBDA_SYNC_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`,
    );
  }
}

export type InvocationType = 'RequestResponse' | 'Event';

/** Refuse a request body Lambda would refuse (413), by invocation type. */
export function checkInvokeRequestSize(bytes: number, invocationType: InvocationType): void {
  const limit =
    invocationType === 'Event' ? LAMBDA_ASYNC_REQUEST_LIMIT_BYTES : LAMBDA_SYNC_REQUEST_LIMIT_BYTES;
  if (bytes > limit) throw new InvokeRequestTooLargeError(bytes, invocationType);
}

export interface InvokeOptions {
  /** RequestResponse (default) bounds the response at 6 MB; Event returns nothing to bound. */
  invocationType?: InvocationType;
  /** Cap on the budget, in ms; unset reads REWIND_LOCAL_MAX_TIMEOUT_MS. */
  maxTimeoutMs?: number;
}

/**
 * Call a local handler as Lambda would: JSON in, JSON out (Dates become strings, undefined null),
 * within Lambda's limits. The request is refused over 6 MB (1 MB for Event) with
 * InvokeRequestTooLargeError. The invocation gets its budget (the function's timeout, capped by
 * `maxTimeoutMs` / REWIND_LOCAL_MAX_TIMEOUT_MS); past it, the call fails with Sandbox.Timedout,
 * the context's signal is aborted and whatever the handler does later is ignored. A synchronous
 * response over 6 MB fails with Function.ResponseSizeTooLarge.
 */
export async function invokeLocal(
  fn: LocalFunction,
  payload: unknown,
  functionName = 'local',
  options: InvokeOptions = {},
): Promise<unknown> {
  const invocationType = options.invocationType ?? 'RequestResponse';
  const request = JSON.stringify(payload ?? null);
  checkInvokeRequestSize(Buffer.byteLength(request), invocationType);
  const budgetMs = invocationBudgetMs(fn, options.maxTimeoutMs ?? maxTimeoutFromEnv());
  const deadline = Date.now() + budgetMs;
  const abort = new AbortController();
  const context: LocalInvocationContext = {
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    signal: abort.signal,
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      abort.abort();
      fail(
        new LambdaPlatformError(
          'Sandbox.Timedout',
          `RequestId: ${context.awsRequestId} Error: Task timed out after ${(budgetMs / 1000).toFixed(2)} seconds`,
        ),
      );
    }, budgetMs);
  });
  const running = Promise.resolve().then(() => fn.handler(JSON.parse(request), context));
  running.catch(() => {}); // a late failure after the cut-off is nobody's business
  let result: unknown;
  try {
    result = await Promise.race([running, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  const response = JSON.stringify(result ?? null);
  const bytes = Buffer.byteLength(response);
  if (invocationType === 'RequestResponse' && bytes > LAMBDA_SYNC_RESPONSE_LIMIT_BYTES)
    throw new LambdaPlatformError(
      'Function.ResponseSizeTooLarge',
      `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${LAMBDA_SYNC_RESPONSE_LIMIT_BYTES} bytes).`,
    );
  return JSON.parse(response);
}

type Json = Record<string, unknown>;

/** Every Task state (name → Resource), including Map item processors and Parallel branches. */
export function collectTaskStates(definition: Json, found = new Map<string, string>()): Map<string, string> {
  const states = (definition.States ?? {}) as Record<string, Json>;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      const resource = String(state.Resource);
      const seen = found.get(name);
      if (seen !== undefined && seen !== resource)
        throw new StateMachineDefinitionError(
          name,
          `two Task states named "${name}" use different resources (local overrides are keyed by state name)`,
        );
      found.set(name, resource);
    }
    const nested = [state.ItemProcessor, state.Iterator, ...((state.Branches as Json[] | undefined) ?? [])];
    for (const sub of nested) if (sub && typeof sub === 'object') collectTaskStates(sub as Json, found);
  }
  return found;
}

/** Names of all states that carry a Retry or are Wait states, at any depth. */
function collectStates(
  definition: Json,
  pick: (state: Json) => boolean,
  found = new Set<string>(),
): Set<string> {
  const states = (definition.States ?? {}) as Record<string, Json>;
  for (const [name, state] of Object.entries(states)) {
    if (pick(state)) found.add(name);
    const nested = [state.ItemProcessor, state.Iterator, ...((state.Branches as Json[] | undefined) ?? [])];
    for (const sub of nested) if (sub && typeof sub === 'object') collectStates(sub as Json, pick, found);
  }
  return found;
}

/** Give Task states without TimeoutSeconds the local default, at any depth. */
function defaultTaskTimeouts(definition: Json, seconds: number): void {
  const states = (definition.States ?? {}) as Record<string, Json>;
  for (const state of Object.values(states)) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
      state.TimeoutSeconds = seconds;
    const nested = [state.ItemProcessor, state.Iterator, ...((state.Branches as Json[] | undefined) ?? [])];
    for (const sub of nested) if (sub && typeof sub === 'object') defaultTaskTimeouts(sub as Json, seconds);
  }
}

/** Read an ASL file and apply CDK-style `${Name}` substitutions; every placeholder needs a value. */
export async function loadDefinition(
  machine: LocalStateMachine,
): Promise<{ text: string; definition: Json }> {
  let raw: string;
  try {
    raw = await readFile(machine.aslPath, 'utf8');
  } catch (err) {
    throw new StateMachineDefinitionError(machine.aslPath, (err as Error).message, { cause: err });
  }
  const missing = new Set<string>();
  const text = raw.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    const value = machine.substitutions[key];
    if (value === undefined) {
      missing.add(key);
      return '';
    }
    return JSON.stringify(value).slice(1, -1); // escaped for use inside a JSON string
  });
  if (missing.size)
    throw new StateMachineDefinitionError(machine.aslPath, `no substitution for ${[...missing].join(', ')}`);
  try {
    return { text, definition: JSON.parse(text) as Json };
  } catch (err) {
    throw new StateMachineDefinitionError(machine.aslPath, `not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * States.DataLimitExceeded: a terminal error. Neither Retry nor Catch matches it (not even
 * States.ALL), so it fails the execution wherever it is raised, inside Map and Parallel too.
 * aws-local-stepfunctions honours `isRetryable` / `isCatchable` on any error it sees.
 */
export class DataLimitExceeded extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(cause: string) {
    super(cause);
    this.name = 'States.DataLimitExceeded';
  }
}

/** Throw DataLimitExceeded when `value`, as JSON in UTF-8, is over Step Functions' 256 KiB. */
export function checkStateDataSize(stateName: string, what: 'input' | 'output' | 'result', value: unknown) {
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes <= PAYLOAD_LIMIT_BYTES) return;
  const shape =
    what === 'result' ? 'returned a result' : what === 'input' ? 'was given an input' : 'produced an output';
  throw new DataLimitExceeded(
    `The state/task '${stateName}' ${shape} with a size exceeding the maximum number of bytes service limit (${bytes} > ${PAYLOAD_LIMIT_BYTES} bytes).`,
  );
}

/**
 * A synchronous look at every state's output, and at each Map iteration's input, in every
 * (nested) execution the runner starts: aws-local-stepfunctions 3 has no such hook, and its
 * event log is consumed asynchronously (too late: the next state has begun). So the library's
 * StateMachine.prototype.execute, which receives each machine's event logger, is wrapped once to
 * check the events as they are dispatched; only runs carrying LIMITS (this runner's) are
 * affected. A check that throws from the dispatch fails that machine outside any state's
 * Retry/Catch, and the error is terminal for the enclosing Map/Parallel states.
 */
const LIMITS = Symbol('rewind.local.stateDataLimits');
type LoggedEvent = { type: string; input?: unknown; state?: { name: string; output?: unknown } };
type EventLogger = { dispatch(event: LoggedEvent): void };
type Execute = (
  input: unknown,
  options: { runOptions?: object; eventLogger?: EventLogger },
  ...rest: unknown[]
) => unknown;
const machineProto = StateMachine.prototype as unknown as { execute?: Execute; [LIMITS]?: true };
/** False if the library no longer has the method wrapped here: then only Task data is checked. */
export const stateOutputsChecked = typeof machineProto.execute === 'function';
if (stateOutputsChecked && !machineProto[LIMITS]) {
  const execute = machineProto.execute as Execute;
  machineProto[LIMITS] = true;
  machineProto.execute = function (this: unknown, input, options, ...rest) {
    const logger = options?.eventLogger;
    const ours = options?.runOptions && LIMITS in options.runOptions;
    if (ours && logger && typeof logger.dispatch === 'function') {
      const dispatch = logger.dispatch.bind(logger);
      let first = true;
      logger.dispatch = (event) => {
        // A nested machine's first event is its input: a Map iteration's item (after ItemSelector).
        if (event.type === 'ExecutionStarted' && first)
          checkStateDataSize('Map iteration', 'input', event.input);
        first = false;
        if (event.type === 'StateExited' && event.state)
          checkStateDataSize(event.state.name, 'output', event.state.output);
        dispatch(event);
      };
    }
    return execute.call(this, input, options, ...rest);
  };
}

function lambdaFailure(err: unknown): TaskFailure {
  const doc = lambdaErrorDocument(err);
  return new TaskFailure(doc.errorType, JSON.stringify(doc));
}

/** Outcome of one execution, in Step Functions' terms. */
export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED' | 'TIMED_OUT' | 'ABORTED'; error: string; cause: string };

/** One state machine, ready to run executions with every Lambda task routed to the registry. */
export class LocalStateMachineRunner {
  private readonly machine: StateMachine;
  private readonly overrides: NonNullable<RunOptions['overrides']>;

  constructor(
    readonly definitionText: string,
    definition: Json,
    registry: LocalFunctionRegistry,
    options: RunnerOptions = {},
  ) {
    const copy = structuredClone(definition);
    defaultTaskTimeouts(copy, options.taskTimeoutSeconds ?? UNBOUNDED_TASK_TIMEOUT_SECONDS);
    // checkArn off: a direct-resource Task may carry a substituted local name instead of an ARN.
    this.machine = new StateMachine(copy as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    });
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, resource] of collectTaskStates(definition))
      handlers[stateName] = this.taskHandler(stateName, resource, registry, options.maxTimeoutMs);
    const retry = options.retryIntervalMs ?? 100;
    const retryStates = collectStates(definition, (s) => Array.isArray(s.Retry));
    const waitStates = collectStates(definition, (s) => s.Type === 'Wait');
    this.overrides = {
      taskResourceLocalHandlers: handlers as NonNullable<
        RunOptions['overrides']
      >['taskResourceLocalHandlers'],
      retryIntervalOverrides: Object.fromEntries([...retryStates].map((n) => [n, retry])),
      ...(options.waitMs === undefined
        ? {}
        : { waitTimeOverrides: Object.fromEntries([...waitStates].map((n) => [n, options.waitMs ?? 0])) }),
    };
  }

  private taskHandler(
    stateName: string,
    resource: string,
    registry: LocalFunctionRegistry,
    maxTimeoutMs: number | undefined,
  ) {
    const optimized = resource === LAMBDA_INVOKE;
    const direct = !optimized && (resource.includes(':function:') || !resource.startsWith('arn:'));
    return async (input: unknown): Promise<unknown> => {
      if (!optimized && !direct)
        throw new TaskFailure(
          'States.Runtime',
          `Task "${stateName}": resource ${resource} is not supported locally`,
        );
      checkStateDataSize(stateName, 'input', input); // the effective input, after Parameters
      const request = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
      const target = optimized ? String(request.FunctionName ?? '') : resource;
      const fn = lookupFunction(registry, target);
      if (!fn)
        throw new TaskFailure(
          'Lambda.ResourceNotFoundException',
          `Function not found: ${target} (state "${stateName}")`,
        );
      let result: unknown;
      try {
        result = await invokeLocal(fn, optimized ? request.Payload : input, functionNameOf(target), {
          ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
        });
      } catch (err) {
        throw lambdaFailure(err);
      }
      checkStateDataSize(stateName, 'result', result);
      // The optimized integration hands back Invoke's response; a direct Lambda ARN, the payload.
      return optimized ? { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: result } : result;
    };
  }

  /** Start an execution; `context` becomes `$$` (Execution.Id, StateMachine.Id, …). */
  run(
    input: unknown,
    context: Record<string, unknown>,
  ): { outcome: Promise<ExecutionOutcome>; abort: () => void } {
    const runOptions = {
      overrides: this.overrides,
      context: context as RunOptions['context'],
      [LIMITS]: true,
    };
    const execution = this.machine.run(input as never, runOptions as RunOptions);
    const outcome = execution.result.then(
      (output): ExecutionOutcome => ({ status: 'SUCCEEDED', output }),
      (err: unknown): ExecutionOutcome => {
        if (err instanceof ExecutionAbortedError)
          return { status: 'ABORTED', error: 'States.Aborted', cause: 'execution stopped' };
        if (err instanceof ExecutionTimeoutError)
          return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'execution timed out' };
        const inner = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
        const error = inner instanceof Error ? inner : new Error(String(inner));
        return { status: 'FAILED', error: error.name, cause: error.message };
      },
    );
    return { outcome, abort: execution.abort };
  }
}
