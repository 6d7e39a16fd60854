import type { ObjectStore } from '../adapters/object-store';
import type { RestoreCatalog } from '../adapters/restore-catalog';
import { restoreRef, runningJob } from '../adapters/restore-job';
import { ManifestCache } from '../adapters/restore-objects';
import type { TargetTables } from '../adapters/restore-tables';
import { parseEvent } from '../core/events';
import type { TableSchema } from '../core/manifest';
import { TargetSchemaMismatchError, TargetTableNotEmptyError } from '../core/restore-errors';
import { type LoadUnit, loadUnits } from '../core/restore-work';
import type { Micros } from '../core/time';

export interface CreateTablesDeps {
  restoreCatalog: RestoreCatalog;
  store: ObjectStore;
  tables: TargetTables;
  now: () => Micros;
  manifests?: ManifestCache;
  config: {
    /** Map MaxConcurrency of the load and replay phases. */
    maxConcurrency: number;
    /** AWS: pre-warm each new table to this many writes/s (docs/design.md §8); unset: no warm throughput. */
    warmWritesPerSecond?: number;
    /** Seconds the state machine waits before asking again while a table is not ACTIVE. */
    waitSeconds: number;
  };
}

export interface CreateTablesOutput {
  cluster: string;
  restoreId: string;
  /** The attempt the load and replay workers belong to (`JobFence`). */
  attempt: number;
  tablesReady: boolean;
  waitSeconds: number;
  maxConcurrency: number;
  /** (table, segment) items of the load Map; empty until every table is ready. */
  loadUnits: LoadUnit[];
}

/**
 * Create each target table from the manifest's schema (keys, attribute definitions, GSIs and
 * LSIs; on-demand, see `createTableInput`), and report whether all are ACTIVE with their
 * indexes. The state machine calls it again after a Wait until they are; then it plans the
 * (table, segment) load units. Idempotent: a table this job created is reused. A table the job
 * did not create is used only if it is empty and has the same keys (docs/design.md §3.8). TTL is
 * enabled later, by verify, once the data is in.
 */
export async function run(event: unknown, deps: CreateTablesDeps): Promise<CreateTablesOutput> {
  const ref = parseEvent(restoreRef, event, 'restore-create-tables event');
  const job = await runningJob(deps.restoreCatalog, ref);
  await deps.restoreCatalog.startPhase(
    ref.cluster,
    ref.restoreId,
    'createTables',
    job.plan.tables.length,
    deps.now(),
  );
  const manifest = await (deps.manifests ?? new ManifestCache()).get(deps.store, job.plan.manifestKey);

  let ready = true;
  for (const { source, target } of job.plan.tables) {
    const schema = manifest.tables.find((t) => t.schema.tableName === source)?.schema;
    if (!schema) throw new TargetSchemaMismatchError(target, `the manifest has no table ${source}`);
    let info = await deps.tables.describe(target);
    if (!info) {
      // Record intent first: if we crash right after CreateTable, the retry finds the table
      // listed and reuses it.
      await deps.restoreCatalog.recordCreatedTable(ref.cluster, ref.restoreId, target);
      await deps.tables.create(target, schema, { warmWritesPerSecond: deps.config.warmWritesPerSecond });
      info = await deps.tables.describe(target);
    } else if (!job.createdTables.includes(target)) {
      if (!sameKeys(info.keySchema, schema))
        throw new TargetSchemaMismatchError(
          target,
          `it exists (empty) with ${keyText({ keySchema: info.keySchema })}, but the backup of ${source} has ${keyText(schema)}: delete ${target} or choose another target prefix`,
        );
      // Adopt it only once it is ACTIVE and seen empty; until then, wait and look again.
      if (info.ready) {
        if (!(await deps.tables.isEmpty(target))) throw new TargetTableNotEmptyError(target);
        await deps.restoreCatalog.recordCreatedTable(ref.cluster, ref.restoreId, target);
      }
    }
    if (!info?.ready) ready = false;
  }

  const base = {
    cluster: ref.cluster,
    restoreId: ref.restoreId,
    attempt: job.attempt,
    waitSeconds: deps.config.waitSeconds,
    maxConcurrency: deps.config.maxConcurrency,
  };
  if (!ready) return { ...base, tablesReady: false, loadUnits: [] };

  await deps.restoreCatalog.finishPhase(ref.cluster, ref.restoreId, 'createTables', deps.now());
  const units = loadUnits(
    manifest,
    job.plan.tables.map((t) => t.source),
  );
  await deps.restoreCatalog.startPhase(ref.cluster, ref.restoreId, 'load', units.length, deps.now());
  return { ...base, tablesReady: true, loadUnits: units };
}

const keyText = (schema: Pick<TableSchema, 'keySchema'>) =>
  `keys ${schema.keySchema.map((k) => `${k.AttributeName} (${k.KeyType})`).join(', ')}`;

function sameKeys(actual: { AttributeName: string; KeyType: string }[], schema: TableSchema): boolean {
  const text = (keys: { AttributeName: string; KeyType: string }[]) =>
    keys
      .map((k) => `${k.KeyType}:${k.AttributeName}`)
      .sort()
      .join(',');
  return text(actual) === text(schema.keySchema);
}
