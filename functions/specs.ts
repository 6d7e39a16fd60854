import { advanceCheckpointSpec } from './advance-checkpoint/spec';
import { deleteBackupSpec } from './delete-backup/spec';
import { executionEndedSpec } from './execution-ended/spec';
import { failSnapshotSpec } from './fail-snapshot/spec';
import { finalizeSnapshotSpec } from './finalize-snapshot/spec';
import { prepareSnapshotSpec } from './prepare-snapshot/spec';
import { recordGapSpec } from './record-gap/spec';
import { restoreCreateTablesSpec } from './restore-create-tables/spec';
import { restoreFailSpec } from './restore-fail/spec';
import { restoreLoadSpec } from './restore-load/spec';
import { restorePlanReplaySpec } from './restore-plan-replay/spec';
import { restoreReplaySpec } from './restore-replay/spec';
import { restoreResumeSpec } from './restore-resume/spec';
import { restoreVerifySpec } from './restore-verify/spec';
import { scanSegmentSpec } from './scan-segment/spec';
import { shipLogSpec } from './ship-log/spec';
import type { FunctionSpec } from './spec';
import { startBackupSpec } from './start-backup/spec';
import { startRestoreSpec } from './start-restore/spec';
import { sweepRetentionSpec } from './sweep-retention/spec';

/**
 * Every Rewind function, by its spec (functions/<name>/spec.ts). CDK, the local registry
 * (local/functions.ts) and the bundle builder read these lists; nothing else names a function's
 * entry, memory, timeout or ASL substitution.
 */
// biome-ignore lint/suspicious/noExplicitAny: deps and results differ per function
export type AnySpec = FunctionSpec<any, any, any>;

/** The snapshot state machine's tasks (statemachines/snapshot.asl.json). */
export const snapshotTaskSpecs = [
  prepareSnapshotSpec,
  scanSegmentSpec,
  finalizeSnapshotSpec,
  failSnapshotSpec,
] as const satisfies readonly AnySpec[];

/** The restore state machine's tasks (statemachines/restore.asl.json). */
export const restoreTaskSpecs = [
  restoreCreateTablesSpec,
  restoreLoadSpec,
  restorePlanReplaySpec,
  restoreReplaySpec,
  restoreVerifySpec,
  restoreFailSpec,
] as const satisfies readonly AnySpec[];

/** Log backup: ship-log (Kinesis), record-gap (its on-failure queue), advance-checkpoint (schedule). */
export const logSpecs = [
  shipLogSpec,
  recordGapSpec,
  advanceCheckpointSpec,
] as const satisfies readonly AnySpec[];

/** Functions people, schedules and the CLI invoke by name. */
export const entrySpecs = [
  startBackupSpec,
  startRestoreSpec,
  restoreResumeSpec,
  sweepRetentionSpec,
  deleteBackupSpec,
] as const satisfies readonly AnySpec[];

/** All of them, each once (execution-ended: the EventBridge rule on the state machines' executions). */
export const allSpecs: readonly AnySpec[] = [
  ...snapshotTaskSpecs,
  ...restoreTaskSpecs,
  ...logSpecs,
  ...entrySpecs,
  executionEndedSpec,
];

/** The state machines' task specs: each carries its `${…FunctionArn}` substitution. */
export const taskSpecs: readonly AnySpec[] = [...snapshotTaskSpecs, ...restoreTaskSpecs];

/** A task spec's ASL substitution (`PrepareSnapshotFunctionArn`); every task spec has one. */
export function substitutionOf(spec: AnySpec): string {
  if (!spec.substitution) throw new Error(`function ${spec.name} is no state-machine task: no substitution`);
  return spec.substitution;
}

/** Each task spec's substitution with the value given for its function name (every one must be). */
export function substitutionsFor<T>(
  specs: readonly AnySpec[],
  byName: Record<string, T>,
): { substitution: string; value: T }[] {
  return specs.map((spec) => {
    const value = byName[spec.name];
    if (value === undefined) throw new Error(`no value for the ${spec.name} task`);
    return { substitution: substitutionOf(spec), value };
  });
}
