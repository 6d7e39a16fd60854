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
import {
  functionNameOf,
  invokeLocal,
  type LocalFunctionRegistry,
  lambdaErrorDocument,
  lookupFunction,
} from './lambda-invoke';

export * from './lambda-invoke';

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

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

/** Step Functions' limit on a state's input and output and an execution input (256 KiB, UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
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
