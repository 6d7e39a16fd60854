import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
