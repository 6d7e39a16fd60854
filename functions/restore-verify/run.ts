import { z } from 'zod';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { restoreRef, runningJob } from '../adapters/restore-job';
import { ManifestCache } from '../adapters/restore-objects';
import type { TargetTables } from '../adapters/restore-tables';
import { parseEvent } from '../core/events';
import { IncompleteRestoreError, ObjectContentMismatchError } from '../core/restore-errors';
import { type RestoreJob, replayUnitId } from '../core/restore-model';
import type { Micros } from '../core/time';

export const verifyInput = restoreRef.extend({
  /** The replay plan, passed through by the state machine: every unit must be done. */
  replayUnits: z
    .array(z.object({ table: z.string(), partition: z.number().int(), partitions: z.number().int() }))
    .default([]),
});

export type VerifyOutput = Pick<RestoreJob, 'restoreId' | 'status' | 'result'>;

export interface VerifyDeps {
  restoreCatalog: RestoreCatalog;
  store: ObjectStore;
  tables: TargetTables;
  now: () => Micros;
  manifests?: ManifestCache;
}

/**
 * Close the restore: check that every replay unit finished and that each table's load wrote
 * exactly the manifest's item count (each chunk was already checked against its SHA-256 and
 * count), count each target table's items (strongly consistent Scan, Select COUNT), enable TTL
 * where the source had it — only now, so no restored item expires half-way through the
 * restore — and mark the job COMPLETED with the per-table counts.
 */
export async function run(event: unknown, deps: VerifyDeps): Promise<VerifyOutput> {
  const input = parseEvent(verifyInput, event, 'restore-verify event');
  const job = await runningJob(deps.restoreCatalog, input);
  const missing = input.replayUnits
    .map((u) => replayUnitId(u.table, u.partition, u.partitions))
    .filter((id) => !job.replayUnits[id]?.done);
  if (missing.length > 0) throw new IncompleteRestoreError(input.restoreId, missing);
  await deps.restoreCatalog.finishPhase(input.cluster, input.restoreId, 'replay', deps.now());
  await deps.restoreCatalog.startPhase(
    input.cluster,
    input.restoreId,
    'verify',
    job.plan.tables.length,
    deps.now(),
  );

  const manifest = await (deps.manifests ?? new ManifestCache()).get(deps.store, job.plan.manifestKey);
  const tables = await Promise.all(
    job.plan.tables.map(async ({ source, target }) => {
      const entry = manifest.tables.find((t) => t.schema.tableName === source);
      if (!entry) throw new ObjectContentMismatchError(job.plan.manifestKey, `no table ${source}`);
      const loaded = Object.entries(job.loadUnits)
        .filter(([id]) => id.startsWith(`${source}#`))
        .reduce((sum, [, u]) => sum + u.items, 0);
      if (loaded !== entry.items)
        throw new ObjectContentMismatchError(
          job.plan.manifestKey,
          `table ${source}: ${loaded} items loaded, the manifest lists ${entry.items}`,
        );
      const items = await deps.tables.count(target);
      const ttl = entry.schema.ttl;
      if (ttl.enabled && ttl.attributeName) await deps.tables.enableTtl(target, ttl.attributeName);
      return { source, target, items };
    }),
  );
  await deps.restoreCatalog.finishPhase(input.cluster, input.restoreId, 'verify', deps.now());
  const completed = await deps.restoreCatalog.completeRestore(
    input.cluster,
    input.restoreId,
    { tables, items: tables.reduce((sum, t) => sum + t.items, 0) },
    deps.now(),
  );
  // A summary, not the job: the job's per-unit progress can outgrow a task result (256 KiB).
  return { restoreId: completed.restoreId, status: completed.status, result: completed.result };
}
