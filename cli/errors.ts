import { CommanderError } from 'commander';
import {
  BackupAlreadyRunningError,
  BackupNotFoundError,
  ClusterNotFoundError,
  ClusterRemovedError,
  InvalidInputError,
  RewindError,
  TableNotFoundError,
} from '../functions/core/errors';
import { BackupStillRunningError } from '../functions/delete-backup/run';
import { InvalidLocalConfigError, LocalCloudNotRunningError } from '../local/clients';

/** Exit codes (CLI.md): success, the operation ran and failed, bad usage or bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command line asks for something this target or command cannot do. */
export class UsageError extends RewindError {
  constructor(
    message: string,
    /** The flag at fault, e.g. `--local`. */
    readonly flag?: string,
  ) {
    super(message);
  }
}

/** The operation ran and ended in failure (e.g. a backup that ended FAILED). */
export class OperationFailedError extends RewindError {}

/** A Lambda invocation returned a function error (`{errorType, errorMessage}`). */
export class RemoteFunctionError extends RewindError {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(errorMessage || `${functionName} failed with ${errorType}`);
  }
}

/** The target did not answer: names the target and what to check, instead of a raw socket error. */
export class TargetUnreachableError extends RewindError {
  constructor(
    readonly target: string,
    readonly reason: string,
    readonly hint: string,
    options?: ErrorOptions,
  ) {
    super(`cannot reach ${target} (${reason}): ${hint}`, options);
  }
}

const NETWORK_FAILURE = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up/;

/** The network failure an SDK call ended with, if that is what it was. */
export function networkFailure(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = `${typeof code === 'string' ? code : ''} ${typeof message === 'string' ? message : ''}`;
    const match = NETWORK_FAILURE.exec(text);
    if (match) return typeof message === 'string' && message ? message : match[0];
  }
  return undefined;
}

/** Error types a function raises for input the caller can fix: these exit 2, others exit 1. */
const BAD_INPUT_TYPES = new Set([
  'InvalidInputError',
  'ClusterNotFoundError',
  'ClusterRemovedError',
  'BackupNotFoundError',
  'TableNotFoundError',
  'BackupAlreadyRunningError',
  'BackupStillRunningError',
  'BackupInUseError',
]);

const BAD_INPUT_CLASSES = [
  UsageError,
  InvalidInputError,
  ClusterNotFoundError,
  ClusterRemovedError,
  BackupNotFoundError,
  TableNotFoundError,
  BackupAlreadyRunningError,
  BackupStillRunningError,
  LocalCloudNotRunningError,
  InvalidLocalConfigError,
];

/** Map anything a command threw to the process exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return EXIT_USAGE;
  }
  if (error instanceof RemoteFunctionError)
    return BAD_INPUT_TYPES.has(error.errorType) ? EXIT_USAGE : EXIT_FAILED;
  if (BAD_INPUT_CLASSES.some((type) => error instanceof type)) return EXIT_USAGE;
  return EXIT_FAILED;
}

/**
 * The `--json` error document: `{error: {type, message, field?, exitCode}}`. Commander's
 * usage errors report as UsageError, with the first flag their message names as `field`.
 */
export function errorDocument(error: unknown, exitCode: number) {
  let type = error instanceof Error ? error.name : 'Error';
  let field: string | undefined;
  if (error instanceof RemoteFunctionError) type = error.errorType;
  if (error instanceof InvalidInputError) field = error.field;
  if (error instanceof UsageError) field = error.flag;
  if (error instanceof CommanderError) {
    type = 'UsageError';
    field = /--[A-Za-z][\w-]*/.exec(error.message)?.[0];
  }
  return { error: { type, message: errorMessage(error), ...(field ? { field } : {}), exitCode } };
}

export function errorMessage(error: unknown): string {
  if (error instanceof CommanderError) return error.message.replace(/^error: /, '');
  return error instanceof Error ? error.message : String(error);
}
