import { z } from 'zod';
import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { attemptRef, JobFence, runningJob, targetOf } from '../adapters/restore-job';
import { gzipLines, ManifestCache, readVerified } from '../adapters/restore-objects';
import type { TargetTables } from '../adapters/restore-tables';
import { parseExportLine } from '../core/dynamo-json';
import { parseEvent } from '../core/events';
import type { ChunkDescriptor } from '../core/manifest';
import { ObjectContentMismatchError } from '../core/restore-errors';
import { loadUnitId } from '../core/restore-model';

export const loadInput = attemptRef.extend({
  table: z.string().min(1),
  segment: z.number().int().nonnegative(),
  /** Index (in part order) of the segment's next chunk; continues across invocations. */
  nextChunk: z.number().int().nonnegative().default(0),
  items: z.number().int().nonnegative().default(0),
  invocations: z.number().int().nonnegative().default(0),
});
export type LoadInput = z.infer<typeof loadInput>;
export type LoadOutput = LoadInput & { done: boolean; skipped: boolean };

export interface LoadDeps {
  restoreCatalog: RestoreCatalog;
  store: ObjectStore;
  tables: TargetTables;
  manifests?: ManifestCache;
  /** Milliseconds left in this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs: () => number;
  config: {
    /** BatchWriteItem requests in flight (each 25 items). */
    writeConcurrency: number;
    /** Stop after a chunk and hand back `nextChunk` when less than this is left. */
    timeReserveMs: number;
    /** How often, at most, the worker checks its attempt is still current (`JobFence`). */
    fenceIntervalMs?: number;
  };
}

/**
 * Load one (table, segment) of the snapshot into its target table: its chunks in part order,
 * each read whole, checked against the manifest's SHA-256 and size before any item of it is
 * written, then streamed line by line into BatchWriteItem (bounded, with backoff). A chunk's
 * item count must match the manifest. After each chunk the unit's progress is recorded; when
 * time runs short the state machine calls again from `nextChunk`.
 *
 * Idempotent: a put of a snapshot item replaces the same item, so a retried or resumed unit
 * rewrites what it wrote before; a unit recorded done is skipped.
 *
 * Memory: one compressed chunk (the next one prefetched) plus the writer's bounded queue.
 */
export async function run(event: unknown, deps: LoadDeps): Promise<LoadOutput> {
  const input = parseEvent(loadInput, event, 'restore-load event');
  const fence = new JobFence(deps.restoreCatalog, input, input.attempt, deps.config.fenceIntervalMs);
  await fence.check();
  const job = await runningJob(deps.restoreCatalog, input);
  const unit = loadUnitId(input.table, input.segment);
  if (job.loadUnits[unit]?.done) return { ...input, done: true, skipped: true };

  const manifest = await (deps.manifests ?? new ManifestCache()).get(deps.store, job.plan.manifestKey);
  const entry = manifest.tables.find((t) => t.schema.tableName === input.table);
  if (!entry) throw new ObjectContentMismatchError(job.plan.manifestKey, `no table ${input.table}`);
  const chunks = entry.chunks.filter((c) => c.segment === input.segment).sort((a, b) => a.part - b.part);
  const writer = deps.tables.writer(targetOf(job, input.table), {
    concurrency: deps.config.writeConcurrency,
  });

  const read = (chunk: ChunkDescriptor) =>
    readVerified(deps.store, chunk.key, { sha256: chunk.sha256, bytes: chunk.storedBytes });
  let index = input.nextChunk;
  let items = input.items;
  let next = index < chunks.length ? settle(read(chunks[index] as ChunkDescriptor)) : undefined;
  while (next) {
    const chunk = chunks[index] as ChunkDescriptor;
    const body = await next.then(unwrap);
    next = index + 1 < chunks.length ? settle(read(chunks[index + 1] as ChunkDescriptor)) : undefined;
    let count = 0;
    for await (const line of gzipLines(body)) {
      if (count % 256 === 0) await fence.check();
      await writer.put(parseExportLine(line));
      count++;
    }
    await writer.flush();
    if (count !== chunk.items)
      throw new ObjectContentMismatchError(chunk.key, `${count} items, manifest says ${chunk.items}`);
    index++;
    items += count;
    const done = index >= chunks.length;
    await deps.restoreCatalog.recordLoadUnit(input.cluster, input.restoreId, unit, {
      chunks: index,
      items,
      done,
    });
    if (!done && deps.remainingMs() < deps.config.timeReserveMs) break;
  }
  const done = index >= chunks.length;
  if (chunks.length === 0)
    await deps.restoreCatalog.recordLoadUnit(input.cluster, input.restoreId, unit, {
      chunks: 0,
      items: 0,
      done,
    });
  return { ...input, nextChunk: index, items, invocations: input.invocations + 1, done, skipped: false };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** Hold a prefetch's outcome so its rejection is handled when (and if) it is awaited. */
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
const unwrap = <T>(settled: Settled<T>): T => {
  if (!settled.ok) throw settled.error;
  return settled.value;
};
