import type { LogCatalog } from '../adapters/log-catalog';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { restoreRef, runningJob } from '../adapters/restore-job';
import { ManifestCache } from '../adapters/restore-objects';
import { parseEvent } from '../core/events';
import { IncompleteRestoreError } from '../core/restore-errors';
import { loadUnitId } from '../core/restore-model';
import { choosePartitions, loadUnits, type PartitionPolicy, type ReplayUnit } from '../core/restore-work';
import type { Micros } from '../core/time';

export interface PlanReplayDeps {
  restoreCatalog: RestoreCatalog;
  logCatalog: LogCatalog;
  store: ObjectStore;
  now: () => Micros;
  manifests?: ManifestCache;
  config: PartitionPolicy & { maxConcurrency: number };
}

export interface PlanReplayOutput {
  cluster: string;
  restoreId: string;
  attempt: number;
  maxConcurrency: number;
  /** (table, partition) items of the replay Map. */
  replayUnits: ReplayUnit[];
}

/**
 * Between load and replay: check that every (table, segment) of the snapshot is loaded, then
 * size the replay. Each table's log window [logFrom, logTo] is split into key-hash partitions
 * so that one worker keeps at most about `targetRecordsPerPartition` change records — its own
 * partition's — in memory, whatever the size of the log.
 */
export async function run(event: unknown, deps: PlanReplayDeps): Promise<PlanReplayOutput> {
  const ref = parseEvent(restoreRef, event, 'restore-plan-replay event');
  const job = await runningJob(deps.restoreCatalog, ref);
  const manifest = await (deps.manifests ?? new ManifestCache()).get(deps.store, job.plan.manifestKey);
  const sources = job.plan.tables.map((t) => t.source);
  const missing = loadUnits(manifest, sources)
    .map((u) => loadUnitId(u.table, u.segment))
    .filter((id) => !job.loadUnits[id]?.done);
  if (missing.length > 0) throw new IncompleteRestoreError(ref.restoreId, missing);
  await deps.restoreCatalog.finishPhase(ref.cluster, ref.restoreId, 'load', deps.now());

  const units: ReplayUnit[] = [];
  for (const table of sources) {
    const objects = await deps.logCatalog.listLogObjects(
      ref.cluster,
      table,
      job.plan.logFrom,
      job.plan.logTo,
    );
    const records = objects.reduce((sum, o) => sum + o.records, 0);
    const partitions = choosePartitions(records, deps.config);
    for (let partition = 0; partition < partitions; partition++) units.push({ table, partition, partitions });
  }
  await deps.restoreCatalog.startPhase(ref.cluster, ref.restoreId, 'replay', units.length, deps.now());
  return {
    cluster: ref.cluster,
    restoreId: ref.restoreId,
    attempt: job.attempt,
    maxConcurrency: deps.config.maxConcurrency,
    replayUnits: units,
  };
}
