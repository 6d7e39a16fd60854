import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from '../../functions/core/errors';
import {
  InvalidLocalConfigError,
  LocalCloudNotRunningError,
  readLocalConfig,
  writeLocalConfig,
} from '../../local/clients';
import {
  bareRegistry,
  collectTaskStates,
  functionNameOf,
  type LocalFunctionRegistry,
  LocalStateMachineRunner,
  loadDefinition,
  localFunction,
  lookupFunction,
  StateMachineDefinitionError,
} from '../../local/sfn-runner';
import { offlineConfig } from '../support/offline-config';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-unit-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `${Name}`, the CDK definition-substitution placeholder. */
const placeholder = (name: string) => `\${${name}}`;

const invoke = (name: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: name, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...extra,
});

describe('function names', () => {
  it('takes the name out of an ARN, with or without qualifier and rewind- prefix', () => {
    // Prepare
    const registry: LocalFunctionRegistry = { 'start-backup': localFunction(async () => 1) };

    // Act
    const names = [
      functionNameOf('arn:aws:lambda:us-east-1:1:function:rewind-start-backup:$LATEST'),
      functionNameOf('start-backup'),
    ];

    // Assess
    expect(names).toEqual(['rewind-start-backup', 'start-backup']);
    expect(lookupFunction(registry, 'arn:aws:lambda:us-east-1:1:function:rewind-start-backup')).toBeDefined();
    expect(lookupFunction(registry, 'other')).toBeUndefined();
  });
});

describe('definitions', () => {
  it('substitutes placeholders, escaped for JSON', async () => {
    // Prepare
    const aslPath = join(dir, 'sub.asl.json');
    await writeFile(
      aslPath,
      JSON.stringify({ StartAt: 'A', States: { A: invoke(placeholder('Fn'), { End: true }) } }),
    );

    // Act
    const { definition } = await loadDefinition({ name: 'sub', aslPath, substitutions: { Fn: 'we"ird' } });

    // Assess
    expect(collectTaskStates(definition).get('A')).toBe('arn:aws:states:::lambda:invoke');
    expect(JSON.stringify(definition)).toContain('we\\"ird');
  });

  it('names every placeholder left without a value', async () => {
    // Prepare
    const aslPath = join(dir, 'missing.asl.json');
    await writeFile(
      aslPath,
      JSON.stringify({
        StartAt: 'A',
        States: { A: { Type: 'Pass', Result: placeholder('One') + placeholder('Two'), End: true } },
      }),
    );

    // Act
    const error = await loadDefinition({ name: 'missing', aslPath, substitutions: { One: 'x' } }).catch(
      (err: unknown) => err,
    );

    // Assess
    expect(error).toBeInstanceOf(StateMachineDefinitionError);
    expect(String(error)).toMatch(/no substitution for Two$/);
  });

  it('finds Task states inside Map item processors and Parallel branches', () => {
    // Prepare
    const definition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: invoke('b', { End: true }) } }],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'I', States: { I: invoke('i', { End: true }) } },
          End: true,
        },
      },
    };

    // Act
    const tasks = collectTaskStates(definition);

    // Assess
    expect([...tasks.keys()].sort()).toEqual(['B', 'I']);
  });
});

describe('LocalStateMachineRunner', () => {
  it('surfaces a handler error by name to Catch States.ALL, with Lambda-style Cause', async () => {
    // Prepare
    const definition = {
      StartAt: 'Verify',
      States: {
        Verify: invoke('verify', {
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Done' }],
          Next: 'Done',
        }),
        Done: { Type: 'Pass', End: true },
      },
    };
    const registry = bareRegistry({
      verify: async () => {
        throw new ChecksumMismatchError('k', 'a', 'b');
      },
    });

    // Act
    const out = await new LocalStateMachineRunner('', definition, registry).run({}, {}).outcome;

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const failure = (out as { output: { failure: { Error: string; Cause: string } } }).output.failure;
    expect(failure.Error).toBe('ChecksumMismatchError');
    expect(JSON.parse(failure.Cause)).toMatchObject({ errorType: 'ChecksumMismatchError' });
  });

  it('replaces Retry intervals with the local pause', async () => {
    // Prepare: AWS would wait 60 s before the retry
    let calls = 0;
    const definition = {
      StartAt: 'Flaky',
      States: {
        Flaky: invoke('flaky', { Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 60 }], End: true }),
      },
    };
    const registry = bareRegistry({
      flaky: async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
        return 'ok';
      },
    });
    const started = Date.now();

    // Act
    const out = await new LocalStateMachineRunner('', definition, registry, { retryIntervalMs: 10 }).run(
      {},
      {},
    ).outcome;

    // Assess
    expect(out).toEqual({ status: 'SUCCEEDED', output: 'ok' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails a task whose result exceeds the Step Functions payload limit', async () => {
    // Prepare
    const definition = { StartAt: 'Big', States: { Big: invoke('big', { End: true }) } };
    const registry = bareRegistry({ big: async () => 'x'.repeat(300 * 1024) });

    // Act
    const out = await new LocalStateMachineRunner('', definition, registry).run({}, {}).outcome;

    // Assess
    expect(out).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });
});

describe('local.json', () => {
  const config = (folder: string) => offlineConfig(folder);

  it('round-trips a config and explains a missing or broken file', async () => {
    // Prepare
    const folder = join(dir, 'cloud');
    const broken = join(dir, 'broken');
    await writeLocalConfig({ ...config(broken), region: 'x' });
    await writeFile(join(broken, 'local.json'), JSON.stringify({ ...config(broken), region: '' }));

    // Act
    const missing = await readLocalConfig(folder).catch((err: unknown) => err);
    await writeLocalConfig(config(folder));
    const read = await readLocalConfig(folder);
    const invalid = await readLocalConfig(broken).catch((err: unknown) => err);

    // Assess
    expect(missing).toBeInstanceOf(LocalCloudNotRunningError);
    expect(String(missing)).toMatch(/rewind local start/);
    expect(read).toEqual(config(folder));
    expect(invalid).toBeInstanceOf(InvalidLocalConfigError);
    expect(String(invalid)).toMatch(/region/);
  });
});
