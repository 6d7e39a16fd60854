import { z } from 'zod';
import type { LogCatalog } from '../adapters/log-catalog';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { attemptRef, JobFence, runningJob, targetOf } from '../adapters/restore-job';
import { gzipLineBuffers, readVerified } from '../adapters/restore-objects';
import type { TargetTables } from '../adapters/restore-tables';
import { itemFromJson } from '../core/dynamo-json';
import { InvalidInputError } from '../core/errors';
import { parseEvent } from '../core/events';
import type { ChangeRecord } from '../core/log-format';
import { latestChanges } from '../core/replay';
import { ObjectContentMismatchError } from '../core/restore-errors';
import { type ReplayUnitProgress, replayUnitId } from '../core/restore-model';
import { decodeIfMine, MalformedLogLineError } from '../core/restore-work';

export const replayInput = attemptRef.extend({
  table: z.string().min(1),
  partition: z.number().int().nonnegative(),
  partitions: z.number().int().positive(),
});
export type ReplayInput = z.infer<typeof replayInput>;
export type ReplayOutput = ReplayInput & ReplayUnitProgress & { skipped: boolean };

export interface ReplayDeps {
  restoreCatalog: RestoreCatalog;
  logCatalog: LogCatalog;
  store: ObjectStore;
  tables: TargetTables;
  config: { writeConcurrency: number; fenceIntervalMs?: number };
}

/**
 * Replay one (table, partition) of the log over the loaded snapshot (docs/design.md §3.1, §3.3).
 *
 * The worker lists the table's log objects that overlap [logFrom, logTo], reads each whole and
 * checks its SHA-256 against the log index before using it, and keeps only the change records
 * of its partition (key hash mod partitions) — the others are skipped right after their key is
 * hashed. So its memory is one log object plus its own partition's records, never the table's
 * log: `kept` in the result counts exactly what it held. Then last-writer-wins per key at ≤
 * logTo (`latestChanges`, duplicates dropped, arrival order ignored) and the winners are
 * applied: a REMOVE deletes the key, INSERT/MODIFY puts NewImage.
 *
 * Idempotent: the winners are the same on every run and put/delete of them converge, so a
 * retried, resumed or repeated replay leaves the same tables. Load has finished before any
 * replay unit starts (the state machine orders the phases), so nothing overwrites a winner.
 */
export async function run(event: unknown, deps: ReplayDeps): Promise<ReplayOutput> {
  const input = parseEvent(replayInput, event, 'restore-replay event');
  if (input.partition >= input.partitions)
    throw new InvalidInputError(
      'partition',
      `less than partitions (${input.partitions}), got ${input.partition}`,
    );
  const fence = new JobFence(deps.restoreCatalog, input, input.attempt, deps.config.fenceIntervalMs);
  await fence.check();
  const job = await runningJob(deps.restoreCatalog, input);
  const unit = replayUnitId(input.table, input.partition, input.partitions);
  const recorded = job.replayUnits[unit];
  if (recorded?.done) return { ...input, ...recorded, skipped: true };

  const { logFrom, logTo } = job.plan;
  const objects = await deps.logCatalog.listLogObjects(input.cluster, input.table, logFrom, logTo);
  const mine: ChangeRecord[] = [];
  let scanned = 0;
  for (const object of objects) {
    const body = await readVerified(deps.store, object.key, { sha256: object.sha256, bytes: object.bytes });
    let lineNo = 0;
    for await (const line of gzipLineBuffers(body)) {
      lineNo++;
      const change = decodeIfMine(line, input.partition, input.partitions, object.key, lineNo);
      if (change && change.table === input.table && change.ts >= logFrom && change.ts <= logTo)
        mine.push(change);
    }
    scanned += lineNo;
    if (lineNo !== object.records)
      throw new ObjectContentMismatchError(
        object.key,
        `${lineNo} records, the log index says ${object.records}`,
      );
  }

  const { winners, duplicates } = latestChanges(mine, logTo, logFrom);
  const writer = deps.tables.writer(targetOf(job, input.table), {
    concurrency: deps.config.writeConcurrency,
  });
  let puts = 0;
  let deletes = 0;
  for (const change of winners.values()) {
    if ((puts + deletes) % 256 === 0) await fence.check();
    if (change.op === 'REMOVE') {
      await writer.delete(itemFromJson(change.keys));
      deletes++;
    } else {
      if (!change.newImage)
        throw new MalformedLogLineError(
          input.table,
          0,
          `${change.op} at ${change.ts} has no NewImage (the stream must carry NEW_IMAGE)`,
        );
      await writer.put(itemFromJson(change.newImage));
      puts++;
    }
  }
  await writer.flush();
  const progress: ReplayUnitProgress = {
    objects: objects.length,
    scanned,
    kept: mine.length,
    duplicates,
    puts,
    deletes,
    done: true,
  };
  await deps.restoreCatalog.recordReplayUnit(input.cluster, input.restoreId, unit, progress);
  return { ...input, ...progress, skipped: false };
}
