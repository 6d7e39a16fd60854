import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionBundling, LAMBDA_RUNTIME_NAME, nodeTarget } from '../../cdk/bundling';
import { logicalId, synth } from './synth';

// Prepare / Act: one synthesis with real bundling (local esbuild, no Docker).
const { stack, template, assembly, cleanup } = synth(undefined, { bundle: true });
afterAll(cleanup);
const functions = {
  'prepare-snapshot': stack.pipeline.prepareSnapshot,
  'scan-segment': stack.pipeline.scanSegment,
  'finalize-snapshot': stack.pipeline.finalizeSnapshot,
  'fail-snapshot': stack.pipeline.failSnapshot,
  'start-backup': stack.pipeline.startBackup,
  'ship-log': stack.log.shipLog,
  'record-gap': stack.log.recordGap,
  'advance-checkpoint': stack.log.advanceCheckpoint,
  'restore-create-tables': stack.restore.createTables,
  'restore-load': stack.restore.load,
  'restore-plan-replay': stack.restore.planReplay,
  'restore-replay': stack.restore.replay,
  'restore-verify': stack.restore.verify,
  'restore-fail': stack.restore.fail,
  'start-restore': stack.restore.startRestore,
  'restore-resume': stack.restore.resumeRestore,
  'sweep-retention': stack.retention.sweepRetention,
  'delete-backup': stack.retention.deleteBackup,
};

const bundleDir = (fn: (typeof functions)[keyof typeof functions]) => {
  const key = template.toJSON().Resources[logicalId(stack, fn)].Properties.Code.S3Key as string;
  return join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
};

describe('function bundles', () => {
  it.each(Object.keys(functions))('%s is an ESM bundle with a require shim and a source map', (name) => {
    const dir = bundleDir(functions[name as keyof typeof functions]);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __rewindCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    // The SDK is bundled (pinned), not taken from the runtime.
    expect(code).toContain('@aws-sdk');
  });

  it('every bundle loads in Node as ESM and exports a handler function', () => {
    const dirs = Object.values(functions).map(bundleDir);
    const script = `for (const d of ${JSON.stringify(dirs)}) { const m = await import(d + '/index.mjs'); console.log(typeof m.handler); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    });
    expect(out.trim().split('\n')).toEqual(Array(dirs.length).fill('function'));
  });
});

// A malformed event per console-facing function; each must fail with InvalidInputError.
const malformedEvents: Record<string, unknown> = {
  'start-backup': { cluster: 42 },
  'start-restore': { cluster: 42 },
  'restore-resume': { cluster: 42 },
  'delete-backup': { cluster: 42 },
  'sweep-retention': { cluster: 42 },
  'ship-log': { Records: 'not a list' },
};

describe('minified bundles keep error class names', () => {
  it('each console-facing bundle throws InvalidInputError on a malformed event, not a mangled name', () => {
    const cases = Object.entries(malformedEvents).map(([name, event]) => ({
      name,
      event,
      bundle: join(bundleDir(functions[name as keyof typeof functions]), 'index.mjs'),
    }));
    // A fresh Node process, as Lambda runs the bundle: no tsx, no vitest transform.
    const script = `
      const context = (functionName) => ({
        functionName, functionVersion: '$LATEST', memoryLimitInMB: '256',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + functionName,
        awsRequestId: 'req-1', logGroupName: '/aws/lambda/' + functionName, logStreamName: 's',
        callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 60000,
        done() {}, fail() {}, succeed() {},
      });
      const out = {};
      for (const c of ${JSON.stringify(cases)}) {
        const { handler } = await import(c.bundle);
        try { await handler(c.event, context(c.name)); out[c.name] = 'no error'; }
        catch (error) { out[c.name] = error.name; }
      }
      process.stdout.write(JSON.stringify(out));`;
    const dummy = 'dummy';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: dummy,
        AWS_SECRET_ACCESS_KEY: dummy,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_METRICS_NAMESPACE: 'Rewind',
        CATALOG_TABLE_NAME: dummy,
        BUCKET_NAME: dummy,
        SNAPSHOT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:dummy',
        RESTORE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:dummy',
      },
    });
    const names = JSON.parse(out.slice(out.lastIndexOf('{"'))) as Record<string, string>;
    expect(names).toEqual(Object.fromEntries(cases.map((c) => [c.name, 'InvalidInputError'])));
  });
});

describe('one bundling definition', () => {
  it('the deployed runtime is the one the bundles target', () => {
    const runtimes = new Set(
      Object.values(functions).map(
        (fn) => template.toJSON().Resources[logicalId(stack, fn)].Properties.Runtime as string,
      ),
    );
    expect([...runtimes]).toEqual([LAMBDA_RUNTIME_NAME]);
    expect(functionBundling.target).toBe(nodeTarget(LAMBDA_RUNTIME_NAME));
  });
});
