import { randomUUID } from 'node:crypto';
import { RewindError } from '../functions/core/errors';

/**
 * The local Lambda: what an invocation of a Rewind function is (a Lambda-like context with an
 * honest remaining time, JSON in and out) and the hard limits Lambda enforces on it (payload
 * sizes, the function's timeout, REWIND_LOCAL_MAX_TIMEOUT_MS). The control plane, the
 * state-machine runner, the event sources and the schedules all invoke through it.
 */
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

/** Lambda: a synchronous (RequestResponse) Invoke request body is at most 6 MB. */
export const LAMBDA_SYNC_REQUEST_LIMIT_BYTES = 6 * 1024 * 1024;
/** Lambda: the limit its Function.ResponseSizeTooLarge message names for a synchronous response. */
export const LAMBDA_SYNC_RESPONSE_LIMIT_BYTES = 6_291_556;
/** Lambda: an asynchronous (Event) Invoke request body is at most 1 MB (256 KB until 2025). */
export const LAMBDA_ASYNC_REQUEST_LIMIT_BYTES = 1024 * 1024;
/** Environment variable capping every local invocation's budget, in ms. */
export const MAX_TIMEOUT_ENV = 'REWIND_LOCAL_MAX_TIMEOUT_MS';

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
