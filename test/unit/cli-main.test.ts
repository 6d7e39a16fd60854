import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../cli/io';
import { main } from '../../cli/main';

// Every case here fails before any client is created: no network. The working directory is an
// empty folder and the environment is empty, so the default target is AWS (nothing contacted).
let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'rewind-cli-unit-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const capture = memoryIo({ cwd, env });
  const code = await main(argv, capture.io);
  return { code, stdout: capture.stdout(), stderr: capture.stderr() };
}

describe('rewind CLI parsing and exit codes', () => {
  it('prints help with the target rules and exits 0', async () => {
    // Act
    const result = await run(['--help']);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('REWIND_LOCAL_DIR');
    expect(result.stdout).toContain('Exit codes');
  });

  it.each([
    [['backup', 'start'], '--cluster'],
    [['backup', 'start', '--cluster'], '--cluster'],
    [['backup', 'start', '--cluster', 'a b'], '--cluster'],
    [['backup', 'start', '--cluster', 'c', '--bogus'], '--bogus'],
    [['backup', 'describe', '--cluster', 'c'], 'backupId'],
    [['cluster', 'register', '--cluster', 'c'], '--tables'],
    [['cluster', 'register', '--cluster', 'c', '--tables', 'ab'], '--tables'],
    [['cluster', 'register', '--cluster', 'c', '--tables', 'abc,abc'], '--tables'],
    [
      ['cluster', 'register', '--cluster', 'c', '--tables', 'abc', '--retention-days', '0'],
      '--retention-days',
    ],
    [
      ['cluster', 'register', '--cluster', 'c', '--tables', 'abc', '--retention-days', '1.5'],
      '--retention-days',
    ],
    [['cluster', 'register', '--cluster', 'c', '--tables', 'abc', '--schedule', 'daily'], '--schedule'],
    [['cluster', 'register', '--cluster', 'c', '--tables', 'abc', '--time-zone', 'Mars/Base'], '--time-zone'],
    [['local', 'start', '--timeout', 'soon'], '--timeout'],
    [['bakup', 'list'], 'bakup'],
  ])('%j exits 2 naming %s', async (argv, flag) => {
    // Act
    const result = await run(argv);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(flag);
    expect(result.stdout).toBe('');
  });

  it('exits 2 when a command group is given without a command', async () => {
    // Act
    const result = await run(['backup']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: rewind backup');
  });

  it('with --json, a usage error is one JSON document on stdout naming the flag', async () => {
    // Act
    const result = await run([
      '--json',
      'cluster',
      'register',
      '--cluster',
      'c',
      '--tables',
      'abc',
      '--retention-days',
      '-3',
    ]);
    // Assess
    expect(result.code).toBe(2);
    const doc = JSON.parse(result.stdout);
    expect(doc.error).toMatchObject({ type: 'UsageError', field: '--retention-days', exitCode: 2 });
    expect(doc.error.message).toContain('positive whole number');
  });

  it('refuses cluster register on AWS, explaining that clusters come from the CDK config', async () => {
    // Act
    const result = await run(['cluster', 'register', '--cluster', 'c', '--tables', 'abc', '--json']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CDK');
    const doc = JSON.parse(result.stdout);
    expect(doc).toEqual({
      error: {
        type: 'UsageError',
        message: expect.stringContaining('cdk deploy'),
        field: '--local',
        exitCode: 2,
      },
    });
  });

  it('refuses --local together with --stack', async () => {
    // Act
    const result = await run(['--local', 'x', '--stack', 'Prod', 'cluster', 'list']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--local and --stack/);
  });

  it('exits 2 when the local folder has no running cloud, naming the missing local.json', async () => {
    // Act
    const result = await run(['cluster', 'list', '--local', join(cwd, 'nothing-here')]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(cwd, 'nothing-here', 'local.json'));
    expect(result.stderr).toContain('rewind local start');
  });

  it('reads a bare --local before a command as the default folder, not as DIR', async () => {
    // Prepare
    const env = { REWIND_LOCAL_DIR: join(cwd, 'env-dir') };
    // Act
    const result = await run(['--local', 'cluster', 'list'], env);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(cwd, 'env-dir', 'local.json'));
  });

  it('accepts global flags after the command', async () => {
    // Act
    const result = await run(['backup', 'list', '--cluster', 'c', '--local', join(cwd, 'late'), '--json']);
    // Assess
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.type).toBe('LocalCloudNotRunningError');
  });
});
