/**
 * One base error for everything Rewind raises on purpose. State machines Retry/Catch on
 * `error.name`, so every subclass sets a stable name ending in `Error`.
 */
export class RewindError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: a malformed event, flag or field. `field` names what was wrong. */
export class InvalidInputError extends RewindError {
  constructor(
    readonly field: string,
    readonly expected: string,
    options?: ErrorOptions,
  ) {
    super(`invalid ${field}: expected ${expected}`, options);
  }
}

export class ClusterNotFoundError extends RewindError {
  constructor(readonly clusterName: string) {
    super(`cluster "${clusterName}" is not registered`);
  }
}

export class BackupNotFoundError extends RewindError {
  constructor(
    readonly clusterName: string,
    readonly backupId: string,
  ) {
    super(`backup "${backupId}" of cluster "${clusterName}" does not exist`);
  }
}

export class TableNotFoundError extends RewindError {
  constructor(readonly tableName: string) {
    super(`table "${tableName}" does not exist`);
  }
}

/** A conditional state transition lost: the item was not in the state the caller expected. */
export class StaleStateError extends RewindError {
  constructor(
    readonly entity: string,
    readonly expected: string,
    options?: ErrorOptions,
  ) {
    super(`${entity} is not ${expected} (changed since read)`, options);
  }
}

/** An object's bytes do not match the checksum recorded for it. */
export class ChecksumMismatchError extends RewindError {
  constructor(
    readonly key: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for ${key}: manifest says ${expected}, object hashes to ${actual}`);
  }
}

/** A backup is already running for the cluster. */
export class BackupAlreadyRunningError extends RewindError {
  constructor(
    readonly clusterName: string,
    readonly runningBackupId: string,
  ) {
    super(`cluster "${clusterName}" already has backup ${runningBackupId} running`);
  }
}

/** Finalize found a (table, segment) that never reported reaching its end. */
export class IncompleteSnapshotError extends RewindError {
  constructor(
    readonly backupId: string,
    readonly missing: string[],
  ) {
    super(
      `backup ${backupId} is missing segments: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
    );
  }
}
