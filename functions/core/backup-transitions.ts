import type { BackupCompletion, BackupRecord, BackupStatus } from './catalog-model';
import { StaleStateError } from './errors';

/**
 * The status changes a backup goes through after it starts, with the fields each writes
 * (docs/design.md §5). Every catalog applies them with the rules below, so a retried Lambda can
 * neither complete a backup twice nor resurrect a deleted one.
 */
export type BackupTransition =
  | { to: 'COMPLETED'; fields: BackupCompletion }
  | { to: 'FAILED'; fields: { failure: { error: string; cause: string } } }
  | { to: 'DELETED'; fields: { deletedAt: number } };

/** The states a backup may leave for `to`: a RUNNING one ends; only an ended one is deleted. */
export function transitionSources(to: BackupTransition['to']): BackupStatus[] {
  return to === 'DELETED' ? ['COMPLETED', 'FAILED'] : ['RUNNING'];
}

/**
 * Whether `current` is already what `transition` produces: a retry, answered with the stored
 * record. A backup COMPLETED counts only with the same manifest.
 */
export function alreadyTransitioned(current: BackupRecord, transition: BackupTransition): boolean {
  if (current.status !== transition.to) return false;
  return transition.to !== 'COMPLETED' || current.manifestKey === transition.fields.manifestKey;
}

/** The error for a transition that is neither allowed from the stored state nor a retry. */
export function staleTransitionError(
  backupId: string,
  to: BackupTransition['to'],
  options?: ErrorOptions,
): StaleStateError {
  return new StaleStateError(`backup ${backupId}`, transitionSources(to).join(' or '), options);
}
