import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { errorDocument, exitCodeFor, OperationFailedError, RemoteFunctionError } from '../../cli/errors';
import { chooseTarget } from '../../cli/target';
import {
  BackupAlreadyRunningError,
  BackupNotFoundError,
  ClusterNotFoundError,
  InvalidInputError,
  StaleStateError,
} from '../../functions/core/errors';
import { BackupStillRunningError } from '../../functions/delete-backup/run';
import { LocalCloudNotRunningError } from '../../local/clients';

const cwd = '/work/project';
const noFile = () => false;

describe('target selection', () => {
  it('--local DIR wins and resolves against the working directory', () => {
    // Act
    const choice = chooseTarget({ local: 'cloud' }, { REWIND_LOCAL_DIR: '/elsewhere' }, cwd, noFile);
    // Assess
    expect(choice).toMatchObject({ kind: 'local', dir: '/work/project/cloud' });
  });

  it('a bare --local uses REWIND_LOCAL_DIR, else .rewind', () => {
    // Act
    const fromEnv = chooseTarget({ local: true }, { REWIND_LOCAL_DIR: '/env/dir' }, cwd, noFile);
    const fallback = chooseTarget({ local: true }, {}, cwd, noFile);
    // Assess
    expect(fromEnv).toMatchObject({ kind: 'local', dir: '/env/dir' });
    expect(fallback).toMatchObject({ kind: 'local', dir: '/work/project/.rewind' });
  });

  it('--stack or --region choose AWS even when a local cloud runs here', () => {
    // Act
    const choice = chooseTarget({ region: 'eu-west-1' }, { REWIND_LOCAL_DIR: '/env' }, cwd, () => true);
    // Assess
    expect(choice).toMatchObject({ kind: 'aws', stack: 'Rewind', region: 'eu-west-1' });
  });

  it('without flags: REWIND_LOCAL_DIR, then ./.rewind/local.json, then AWS', () => {
    // Act
    const fromEnv = chooseTarget({}, { REWIND_LOCAL_DIR: 'env' }, cwd, () => true);
    const fromFile = chooseTarget({}, {}, cwd, (path) => path === '/work/project/.rewind/local.json');
    const aws = chooseTarget({}, { REWIND_STACK: 'Prod' }, cwd, noFile);
    // Assess
    expect(fromEnv).toMatchObject({ kind: 'local', dir: '/work/project/env' });
    expect(fromFile).toMatchObject({ kind: 'local', dir: '/work/project/.rewind' });
    expect(aws).toMatchObject({ kind: 'aws', stack: 'Prod' });
  });

  it('refuses --local with --region, naming both', () => {
    // Act
    const choose = () => chooseTarget({ local: true, region: 'eu-west-1' }, {}, cwd, noFile);
    // Assess
    expect(choose).toThrow(/--local and --region/);
  });
});

describe('exit codes', () => {
  it.each([
    [new InvalidInputError('--tables', 'existing tables'), 2],
    [new ClusterNotFoundError('shop'), 2],
    [new BackupNotFoundError('shop', 'b1'), 2],
    [new BackupAlreadyRunningError('shop', 'b1'), 2],
    [new BackupStillRunningError('shop', 'b1'), 2],
    [new LocalCloudNotRunningError('/x/local.json'), 2],
    [new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), 2],
    [new CommanderError(1, 'commander.help', '(outputHelp)'), 2],
    [new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), 0],
    [new RemoteFunctionError('start-backup', 'ClusterNotFoundError', 'cluster "x" is not registered'), 2],
    [new RemoteFunctionError('start-backup', 'InvalidInputError', 'invalid cluster'), 2],
    [new RemoteFunctionError('start-backup', 'BackupAlreadyRunningError', 'already running'), 2],
    [new RemoteFunctionError('start-backup', 'ExecutionLimitExceeded', 'too many'), 1],
    [new RemoteFunctionError('start-backup', 'Runtime.ExitError', 'crashed'), 1],
    [new OperationFailedError('backup FAILED'), 1],
    [new StaleStateError('backup b1', 'COMPLETED'), 1],
    [new Error('socket hang up'), 1],
  ])('%s → %i', (error, code) => {
    // Act / Assess
    expect(exitCodeFor(error)).toBe(code);
  });

  it('the JSON error document carries the remote error type and the field at fault', () => {
    // Act
    const remote = errorDocument(new RemoteFunctionError('start-backup', 'ClusterNotFoundError', 'no'), 2);
    const input = errorDocument(new InvalidInputError('--tables', 'existing tables'), 2);
    // Assess
    expect(remote).toEqual({ error: { type: 'ClusterNotFoundError', message: 'no', exitCode: 2 } });
    expect(input.error).toMatchObject({ type: 'InvalidInputError', field: '--tables' });
  });
});
