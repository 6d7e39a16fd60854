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

/** The cluster was removed from the stack (its catalog item is kept, marked REMOVED). */
export class ClusterRemovedError extends RewindError {
  constructor(readonly clusterName: string) {
    super(
      `cluster "${clusterName}" was removed from the stack: its backups stay restorable, but it is no longer backed up (add it back to the config to protect it again)`,
    );
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
    readonly executionArn?: string,
  ) {
    super(
      `cluster "${clusterName}" already has backup ${runningBackupId} running${executionArn ? ` (execution ${executionArn})` : ''}`,
    );
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

/** A restore point after the log backup's checkpoint: the log is not known complete there. */
export class RestorePointAfterCheckpointError extends RewindError {
  constructor(
    readonly restorePoint: string,
    readonly checkpoint: string,
    readonly earliest: string | undefined,
  ) {
    super(
      `restore point ${restorePoint} is after the log checkpoint ${checkpoint}; ` +
        `the restorable window is ${earliest ?? '(none)'} .. ${checkpoint}`,
    );
  }
}

/** A restore point before the earliest instant any completed snapshot can restore. */
export class RestorePointTooEarlyError extends RewindError {
  constructor(
    readonly restorePoint: string,
    readonly earliest: string | undefined,
    readonly checkpoint: string | undefined,
  ) {
    super(
      earliest
        ? `restore point ${restorePoint} is before the earliest restorable instant ${earliest}; the restorable window is ${earliest} .. ${checkpoint ?? '(no checkpoint yet)'}`
        : `restore point ${restorePoint}: the cluster has no completed snapshot yet, nothing is restorable`,
    );
  }
}

/** Replaying the log up to the restore point would cross a recorded gap. */
export class RestoreCrossesGapError extends RewindError {
  constructor(
    readonly restorePoint: string,
    readonly gap: { gapId: string; fromTs: string; toTs: string; table?: string },
  ) {
    super(
      `restore point ${restorePoint} needs log across gap ${gap.gapId} (${gap.fromTs} .. ${gap.toTs}${gap.table ? `, table ${gap.table}` : ''}); choose an instant before ${gap.fromTs} or after a snapshot taken after ${gap.toTs}`,
    );
  }
}
