import type { LoadUnitProgress, ReplayUnitProgress, RestoreJob, RestorePhase } from '../core/restore-model';
import type { Micros } from '../core/time';

export interface RestoreOwner {
  clusterName: string;
  restoreId: string;
}

/**
 * Restore jobs in the catalog (docs/design.md §5) and the reservations of their target tables.
 * Status changes are conditional: RUNNING → COMPLETED | FAILED, FAILED → RUNNING (resume).
 * Progress writes are accepted only while the job is RUNNING and overwrite per unit, so a
 * retried worker never counts twice. Methods reject only on storage errors unless stated.
 *
 * Implementations: `DynamoRestoreCatalog` (the catalog table: job items under the cluster's
 * `pk`, reservations under `TARGET#<table>`) and `MemoryRestoreCatalog` (tests); both pass
 * test/contract/restore-catalog-contract.ts.
 */
export interface RestoreCatalog {
  /** Register a new job. `StaleStateError` if a job with that id exists. */
  createRestore(job: RestoreJob): Promise<RestoreJob>;
  /** `undefined` when there is no such job. */
  getRestore(clusterName: string, restoreId: string): Promise<RestoreJob | undefined>;
  /** The cluster's jobs, newest `requestedAt` first. */
  listRestores(clusterName: string): Promise<RestoreJob[]>;
  /** Record the state machine execution running the job (any status). */
  setExecution(clusterName: string, restoreId: string, executionArn: string): Promise<void>;

  /** Phase → RUNNING with its unit count; keeps the first `startedAt`. `StaleStateError` unless RUNNING. */
  startPhase(
    clusterName: string,
    restoreId: string,
    phase: RestorePhase,
    total: number,
    at: Micros,
  ): Promise<void>;
  /** Phase → DONE at `at`. `StaleStateError` unless the job is RUNNING. */
  finishPhase(clusterName: string, restoreId: string, phase: RestorePhase, at: Micros): Promise<void>;
  /** Add a target table the job created (idempotent). `StaleStateError` unless RUNNING. */
  recordCreatedTable(clusterName: string, restoreId: string, table: string): Promise<void>;
  /** Overwrite one load unit's progress. `StaleStateError` unless RUNNING. */
  recordLoadUnit(
    clusterName: string,
    restoreId: string,
    unitId: string,
    progress: LoadUnitProgress,
  ): Promise<void>;
  /** Overwrite one replay unit's progress. `StaleStateError` unless RUNNING. */
  recordReplayUnit(
    clusterName: string,
    restoreId: string,
    unitId: string,
    progress: ReplayUnitProgress,
  ): Promise<void>;

  /** RUNNING → COMPLETED with the result. Idempotent when already COMPLETED; `StaleStateError` otherwise. */
  completeRestore(
    clusterName: string,
    restoreId: string,
    result: NonNullable<RestoreJob['result']>,
    at: Micros,
  ): Promise<RestoreJob>;
  /** RUNNING → FAILED with its cause. Idempotent when already FAILED; `StaleStateError` when COMPLETED. */
  failRestore(
    clusterName: string,
    restoreId: string,
    failure: { error: string; cause: string },
    at: Micros,
  ): Promise<RestoreJob>;
  /**
   * FAILED → RUNNING as attempt `attempt` (= stored attempt + 1), clearing the failure.
   * Idempotent when already RUNNING as that attempt; `StaleStateError` otherwise.
   */
  resumeRestore(clusterName: string, restoreId: string, attempt: number): Promise<RestoreJob>;

  /**
   * Reserve a target table name for a job: succeeds (returns undefined) when nobody holds it,
   * `owner` holds it, or `replacing` (a holder the caller found finished) still holds it;
   * otherwise returns the current holder and changes nothing.
   */
  reserveTarget(
    table: string,
    owner: RestoreOwner,
    replacing?: RestoreOwner,
  ): Promise<RestoreOwner | undefined>;
}
