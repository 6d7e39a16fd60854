/**
 * One warm "container" of a bundled function (local/bundles.ts): a worker thread that imports
 * the function's esbuild bundle once, like Lambda's Node runtime, and then runs one invocation
 * at a time. Plain JavaScript so the worker needs no TypeScript loader: it runs the bundle the
 * way Lambda does. Its `process.env` is the function's environment (Worker `env` option).
 *
 * Parent → worker: { id, event, remainingMs, requestId }
 * Worker → parent: { id, ok: true, result } | { id, ok: false, errorType, errorMessage, trace }
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

// Lambda sets NODE_OPTIONS=--enable-source-maps for Rewind's functions; workers ignore NODE_OPTIONS.
process.setSourceMapsEnabled?.(true);

const { bundle, functionName, memorySize, region, accountId } = workerData;

const errorDocument = (error) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: e.name || 'Error',
    errorMessage: e.message,
    trace: String(e.stack ?? '').split('\n'),
  };
};

function lambdaContext(requestId, remainingMs) {
  const deadline = Date.now() + remainingMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: String(memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

let handler;
let initError;
try {
  const mod = await import(pathToFileURL(bundle).href);
  handler = mod.handler;
  if (typeof handler !== 'function') {
    initError = Object.assign(new Error(`${bundle} does not export a handler function`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
} catch (error) {
  initError = error;
}

parentPort.on('message', async ({ id, event, remainingMs, requestId }) => {
  if (initError) {
    parentPort.postMessage({ id, ok: false, ...errorDocument(initError) });
    return;
  }
  try {
    const result = await handler(event, lambdaContext(requestId, remainingMs));
    // Lambda serializes the result as JSON; so does the control plane after us.
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(result ?? null) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, ...errorDocument(error) });
  }
});
parentPort.postMessage({ ready: true });
