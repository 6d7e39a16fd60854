import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSpecs, restoreTaskSpecs, snapshotTaskSpecs, taskSpecs } from '../../functions/specs';
import {
  createLocalFunctions,
  localEnvironment,
  localStateMachines,
  localTimeoutMs,
} from '../../local/functions';
import { offlineConfig } from '../support/offline-config';

// Every function is wired from its spec alone (functions/<name>/spec.ts): these checks are what
// CDK, the Lambda handler and the local registry rely on.

const ROOT = resolve(import.meta.dirname, '..', '..');
const localConfig = offlineConfig('/tmp/unused', { bucket: 'bucket', catalogTable: 'catalog' });
/** What a stack gives every function; anything else a function reads must have a default. */
const stackWide = {
  CATALOG_TABLE_NAME: 'catalog',
  BUCKET_NAME: 'bucket',
  SNAPSHOT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:snapshot',
  RESTORE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:restore',
};
const placeholdersOf = (asl: string) =>
  new Set(
    [
      ...readFileSync(join(ROOT, 'statemachines', asl), 'utf8').matchAll(/\$\{([A-Za-z0-9]+FunctionArn)\}/g),
    ].map((m) => m[1]),
  );

describe.each(allSpecs.map((spec) => [spec.name, spec] as const))('function %s', (_name, spec) => {
  it('lives in functions/<name>/ and its entry is the handler there', () => {
    // Act
    const folder = dirname(spec.entry);
    // Assess
    expect(folder).toBe(`functions/${spec.name}`);
    expect(basename(spec.entry)).toBe('handler.ts');
    expect(existsSync(join(ROOT, spec.entry))).toBe(true);
    expect(existsSync(join(ROOT, folder, 'spec.ts'))).toBe(true);
  });

  it('exports a handler function from its entry', async () => {
    // Act
    const mod = (await import(join(ROOT, spec.entry))) as { handler?: unknown };
    // Assess
    expect(typeof mod.handler).toBe('function');
  });

  it('runs with only the stack-wide variables (everything else has a default)', () => {
    // Act
    const parsed = spec.env.safeParse(stackWide);
    // Assess
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('has a deployable memory size and timeout', () => {
    // Assess
    expect(spec.memorySize).toBeGreaterThanOrEqual(128);
    expect(spec.memorySize).toBeLessThanOrEqual(10_240);
    expect(spec.timeoutSeconds).toBeGreaterThan(0);
    expect(spec.timeoutSeconds).toBeLessThanOrEqual(900);
    expect(spec.description).toMatch(/^Rewind/);
  });

  it('gets locally only variables its schema declares, and they parse', () => {
    // Act
    const env = localEnvironment(spec, localConfig);
    // Assess
    expect(Object.keys(env).every((name) => name in spec.env.shape)).toBe(true);
    expect(spec.env.safeParse(env).success).toBe(true);
  });
});

describe('the specs list', () => {
  it('has one spec per function folder, each name once', () => {
    // Prepare
    const folders = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'functions', d.name, 'handler.ts')))
      .map((d) => d.name);
    // Act
    const names = allSpecs.map((spec) => spec.name);
    // Assess
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...folders].sort());
  });

  it('gives every state-machine task a unique substitution, exactly the ASL placeholders', () => {
    // Act
    const substitutions = taskSpecs.map((spec) => spec.substitution);
    const withSubstitution = allSpecs.filter((spec) => spec.substitution !== undefined);
    // Assess
    expect(new Set(substitutions).size).toBe(substitutions.length);
    expect(withSubstitution.map((spec) => spec.name).sort()).toEqual(
      taskSpecs.map((spec) => spec.name).sort(),
    );
    expect(new Set(snapshotTaskSpecs.map((spec) => spec.substitution))).toEqual(
      placeholdersOf('snapshot.asl.json'),
    );
    expect(new Set(restoreTaskSpecs.map((spec) => spec.substitution))).toEqual(
      placeholdersOf('restore.asl.json'),
    );
  });
});

describe('the local registry', () => {
  it('has exactly one entry per spec, with the deployed timeout', () => {
    // Act
    const registry = createLocalFunctions(localConfig);
    // Assess
    expect(Object.keys(registry).sort()).toEqual(allSpecs.map((spec) => spec.name).sort());
    for (const spec of allSpecs) expect(registry[spec.name]?.timeoutMs).toBe(spec.timeoutSeconds * 1000);
  });

  it('takes per-function environment and timeout overrides, and refuses unknown ones', () => {
    // Prepare
    const overrides = {
      env: { 'scan-segment': { SCAN_PAGE_LIMIT: 50 } },
      timeoutsMs: { 'scan-segment': 5_000 },
    };
    const [scan] = allSpecs.filter((spec) => spec.name === 'scan-segment');
    if (!scan) throw new Error('no scan-segment spec');
    // Act
    const registry = createLocalFunctions(localConfig, overrides);
    // Assess
    expect(registry['scan-segment']?.timeoutMs).toBe(5_000);
    expect(localTimeoutMs(scan, overrides)).toBe(5_000);
    expect(localEnvironment(scan, localConfig, overrides).SCAN_PAGE_LIMIT).toBe('50');
    expect(() =>
      createLocalFunctions(localConfig, { env: { 'scan-segment': { SCAN_PAGE_LIMT: 50 } } }),
    ).toThrow(/SCAN_PAGE_LIMT/);
    expect(() => createLocalFunctions(localConfig, { timeoutsMs: { 'scan-segmnt': 1 } })).toThrow(
      /scan-segmnt/,
    );
  });

  it('substitutes every state machine placeholder with a registered function', () => {
    // Prepare
    const registry = createLocalFunctions(localConfig);
    // Act
    const machines = localStateMachines();
    // Assess
    for (const machine of machines) {
      const placeholders = placeholdersOf(basename(machine.aslPath));
      for (const placeholder of placeholders) {
        const name = machine.substitutions[placeholder ?? ''];
        expect(name && registry[name], `${machine.name}: ${placeholder}`).toBeTruthy();
      }
    }
  });
});
