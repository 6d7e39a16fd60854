import { canonicalJsonItem, type JsonItem } from './dynamo-json';
import { type ChangeRecord, itemIdentity } from './log-format';
import type { Micros } from './time';

/**
 * Last-writer-wins replay (docs/design.md §3.1, §3.3): per item, the change with the greatest `ts`
 * ≤ `until` decides — REMOVE deletes, INSERT/MODIFY writes NewImage. Arrival order never
 * matters and duplicates (same table, key and ts) are the same change. Ties between different
 * records at the same ts are broken by content so the result does not depend on input order.
 */
export interface ReplayOutcome {
  /** The winning change per item identity. */
  winners: Map<string, ChangeRecord>;
  /** Records ignored as duplicates of a change already seen. */
  duplicates: number;
}

export function latestChanges(
  changes: Iterable<ChangeRecord>,
  until: Micros,
  from = Number.NEGATIVE_INFINITY,
): ReplayOutcome {
  const winners = new Map<string, ChangeRecord>();
  let duplicates = 0;
  for (const change of changes) {
    if (change.ts > until || change.ts < from) continue;
    const id = itemIdentity(change);
    const current = winners.get(id);
    if (!current || change.ts > current.ts) {
      winners.set(id, change);
    } else if (change.ts === current.ts) {
      duplicates++;
      if (tieKey(change) > tieKey(current)) winners.set(id, change);
    }
  }
  return { winners, duplicates };
}

const tieKey = (change: ChangeRecord) =>
  `${change.op === 'REMOVE' ? '0' : '1'}${change.newImage ? canonicalJsonItem(change.newImage) : ''}`;

/**
 * Apply the winning changes to a table state (canonical key → item). Idempotent: applying the
 * same changes twice yields the same state.
 */
export function applyChanges(
  state: Map<string, JsonItem>,
  winners: Map<string, ChangeRecord>,
): Map<string, JsonItem> {
  for (const [id, change] of winners) {
    if (change.op === 'REMOVE' || !change.newImage) state.delete(id);
    else state.set(id, change.newImage);
  }
  return state;
}
