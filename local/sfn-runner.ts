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
  /** Honest: the function's budget minus the time spent so far (Lambda's getRemainingTimeInMillis). */
  getRemainingTimeInMillis(): number;
}

/** A local stand-in for one Rewind Lambda function. */
export interface LocalFunction {
  /** The deployed timeout (capped by REWIND_LOCAL_MAX_TIMEOUT_MS), in ms. */
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
   * Timeout of Task states that set none. The library defaults to 60 s, AWS to the Lambda's own
   * timeout (at most 900 s), so 900 keeps long local tasks from failing where AWS would not.
   */
  taskTimeoutSeconds?: number;
}

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

/** Step Functions' limit on a task result and an execution input (256 KiB). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
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

/** The document real Lambda returns when a handler throws. */
export function lambdaErrorDocument(err: unknown): {
  errorType: string;
  errorMessage: string;
  trace: string[];
} {
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: error.name || 'Error',
    errorMessage: error.message,
    trace: (error.stack ?? '').split('\n').slice(0, 20),
  };
}

/** Call a local handler as Lambda would: JSON in, JSON out (Dates become strings, undefined null). */
export async function invokeLocal(
  fn: LocalFunction,
  payload: unknown,
  functionName = 'local',
): Promise<unknown> {
  const deadline = Date.now() + fn.timeoutMs;
  const context: LocalInvocationContext = {
    functionName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const result = await fn.handler(JSON.parse(JSON.stringify(payload ?? null)), context);
  return JSON.parse(JSON.stringify(result ?? null));
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

function checkSize(what: string, value: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > PAYLOAD_LIMIT_BYTES)
    throw new TaskFailure(
      'States.DataLimitExceeded',
      `${what} is ${bytes} bytes; Step Functions allows ${PAYLOAD_LIMIT_BYTES}`,
    );
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
    defaultTaskTimeouts(copy, options.taskTimeoutSeconds ?? 900);
    // checkArn off: a direct-resource Task may carry a substituted local name instead of an ARN.
    this.machine = new StateMachine(copy as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    });
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, resource] of collectTaskStates(definition))
      handlers[stateName] = this.taskHandler(stateName, resource, registry);
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

  private taskHandler(stateName: string, resource: string, registry: LocalFunctionRegistry) {
    const optimized = resource === LAMBDA_INVOKE;
    const direct = !optimized && (resource.includes(':function:') || !resource.startsWith('arn:'));
    return async (input: unknown): Promise<unknown> => {
      if (!optimized && !direct)
        throw new TaskFailure(
          'States.Runtime',
          `Task "${stateName}": resource ${resource} is not supported locally`,
        );
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
        result = await invokeLocal(fn, optimized ? request.Payload : input, functionNameOf(target));
      } catch (err) {
        throw lambdaFailure(err);
      }
      checkSize(`result of Task "${stateName}"`, result);
      // The optimized integration hands back Invoke's response; a direct Lambda ARN, the payload.
      return optimized ? { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: result } : result;
    };
  }

  /** Start an execution; `context` becomes `$$` (Execution.Id, StateMachine.Id, …). */
  run(
    input: unknown,
    context: Record<string, unknown>,
  ): { outcome: Promise<ExecutionOutcome>; abort: () => void } {
    const execution = this.machine.run(input as never, {
      overrides: this.overrides,
      context: context as RunOptions['context'],
    });
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
