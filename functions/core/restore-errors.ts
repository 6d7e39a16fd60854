import { RewindError } from './errors';

/**
 * Refusals and failures of a restore (docs/design.md §3.8: restore writes only new tables, never
 * into a non-empty one, never into a source). Each names what the operator can change.
 */
export class TargetTableNotEmptyError extends RewindError {
  constructor(readonly table: string) {
    super(
      `target table ${table} exists and is not empty: restore never writes into a non-empty table (choose another target prefix, or delete it)`,
    );
  }
}

export class TargetIsSourceError extends RewindError {
  constructor(
    readonly table: string,
    readonly clusterName: string,
  ) {
    super(
      `target table ${table} is a protected table of cluster ${clusterName}: restore never touches a source (choose another target prefix)`,
    );
  }
}

export class TargetTableInUseError extends RewindError {
  constructor(
    readonly table: string,
    readonly restoreId: string,
  ) {
    super(`target table ${table} is being written by restore ${restoreId} (choose another target prefix)`);
  }
}

export class TargetSchemaMismatchError extends RewindError {
  constructor(
    readonly table: string,
    readonly problem: string,
  ) {
    super(`target table ${table} exists with a different schema: ${problem}`);
  }
}

export class RestoreNotFoundError extends RewindError {
  constructor(
    readonly clusterName: string,
    readonly restoreId: string,
  ) {
    super(`restore "${restoreId}" of cluster "${clusterName}" does not exist`);
  }
}

export class RestoreNotResumableError extends RewindError {
  constructor(
    readonly restoreId: string,
    readonly status: string,
  ) {
    super(`restore ${restoreId} is ${status}: only a FAILED restore can be resumed`);
  }
}

/** Verify found work the job never finished (a unit missing or not done). */
export class IncompleteRestoreError extends RewindError {
  constructor(
    readonly restoreId: string,
    readonly missing: string[],
  ) {
    super(
      `restore ${restoreId} is missing work units: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
    );
  }
}

/** A snapshot chunk or log object does not hold what the manifest or log index says. */
export class ObjectContentMismatchError extends RewindError {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${key}: ${problem}`);
  }
}

/** Error types the operator fixes by changing the request (the CLI exits 2 for them). */
export const RESTORE_REFUSALS = [
  'InvalidInputError',
  'ClusterNotFoundError',
  'BackupNotFoundError',
  'TableNotFoundError',
  'RestorePointAfterCheckpointError',
  'RestorePointTooEarlyError',
  'RestoreCrossesGapError',
  'TargetTableNotEmptyError',
  'TargetIsSourceError',
  'TargetTableInUseError',
  'TargetSchemaMismatchError',
  'RestoreNotFoundError',
  'RestoreNotResumableError',
] as const;
