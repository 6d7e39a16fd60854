import { z } from 'zod';
import { CATALOG_SCHEMA_VERSION } from './catalog-model';

/**
 * The restore job (docs/design.md §5): one catalog item per restore, `pk = CLUSTER#<cluster>`,
 * `sk = RESTORE#<restoreId>`. It holds the request, the resolved restore point and plan, the
 * status (RUNNING → COMPLETED | FAILED, FAILED → RUNNING on resume, all conditional), progress
 * per phase, and the result. Instants are microseconds since the epoch.
 *
 * Progress is written per work unit (a (table, segment) of the load, a (table, partition) of the
 * replay) as a map entry that a retried worker overwrites with the same value, so a retry never
 * counts twice.
 */
export const RESTORE_SCHEMA_VERSION = CATALOG_SCHEMA_VERSION;

export const restoreStatus = z.enum(['RUNNING', 'COMPLETED', 'FAILED']);
export type RestoreStatus = z.infer<typeof restoreStatus>;

export const PHASES = ['createTables', 'load', 'replay', 'verify'] as const;
export type RestorePhase = (typeof PHASES)[number];

const micros = z.number().int();

export const phaseProgress = z.object({
  status: z.enum(['PENDING', 'RUNNING', 'DONE']),
  startedAt: micros.optional(),
  finishedAt: micros.optional(),
  /** Work units of the phase (tables, segments, partitions); 0 until the phase is planned. */
  total: z.number().int().nonnegative().default(0),
});
export type PhaseProgress = z.infer<typeof phaseProgress>;

export const loadUnitProgress = z.object({
  chunks: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
  done: z.boolean(),
});
export type LoadUnitProgress = z.infer<typeof loadUnitProgress>;

export const replayUnitProgress = z.object({
  objects: z.number().int().nonnegative(),
  /** Change records read (all partitions' records pass through every worker of the table). */
  scanned: z.number().int().nonnegative(),
  /** Records of this partition inside [logFrom, logTo]. */
  kept: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  puts: z.number().int().nonnegative(),
  deletes: z.number().int().nonnegative(),
  done: z.boolean(),
});
export type ReplayUnitProgress = z.infer<typeof replayUnitProgress>;

export const restoreTable = z.object({
  source: z.string(),
  target: z.string(),
});
export type RestoreTableRef = z.infer<typeof restoreTable>;

export const restoreJob = z.object({
  schemaVersion: z.number().int(),
  clusterName: z.string(),
  restoreId: z.string(),
  request: z.object({
    /** As given: an ISO instant, `latest` or `backup:ID`. */
    to: z.string(),
    targetPrefix: z.string(),
    tables: z.array(z.string()).optional(),
  }),
  restorePoint: micros,
  plan: z.object({
    backupId: z.string(),
    manifestKey: z.string(),
    snapshotPrefix: z.string(),
    startTs: micros,
    endTs: micros,
    logFrom: micros,
    logTo: micros,
    tables: z.array(restoreTable).min(1),
  }),
  status: restoreStatus,
  /** 1 for the first run; a resume increments it (execution name `<restoreId>-<attempt>`). */
  attempt: z.number().int().positive(),
  requestedAt: micros,
  finishedAt: micros.optional(),
  phases: z.object({
    createTables: phaseProgress,
    load: phaseProgress,
    replay: phaseProgress,
    verify: phaseProgress,
  }),
  /** Target tables this job created (so a retry or resume may write into them again). */
  createdTables: z.array(z.string()).default([]),
  loadUnits: z.record(z.string(), loadUnitProgress).default({}),
  replayUnits: z.record(z.string(), replayUnitProgress).default({}),
  result: z
    .object({
      tables: z.array(restoreTable.extend({ items: z.number().int().nonnegative() })),
      items: z.number().int().nonnegative(),
    })
    .optional(),
  failure: z.object({ error: z.string(), cause: z.string() }).optional(),
  executionArn: z.string().optional(),
});
export type RestoreJob = z.infer<typeof restoreJob>;

export const pendingPhases = (): RestoreJob['phases'] => ({
  createTables: { status: 'PENDING', total: 0 },
  load: { status: 'PENDING', total: 0 },
  replay: { status: 'PENDING', total: 0 },
  verify: { status: 'PENDING', total: 0 },
});

/** Unit ids: table names are [A-Za-z0-9_.-], so `#` cannot be part of one. */
export const loadUnitId = (table: string, segment: number) => `${table}#${segment}`;
/** The partition count is part of the id: a unit done under another partitioning is not done. */
export const replayUnitId = (table: string, partition: number, partitions: number) =>
  `${table}#p${partition}of${partitions}`;

/** Totals of a job's per-unit progress, for views and for the verify step. */
export function progressTotals(job: RestoreJob) {
  const load = Object.values(job.loadUnits);
  const replay = Object.values(job.replayUnits);
  const sum = <T>(list: T[], pick: (t: T) => number) => list.reduce((total, x) => total + pick(x), 0);
  return {
    load: {
      unitsDone: load.filter((u) => u.done).length,
      chunks: sum(load, (u) => u.chunks),
      items: sum(load, (u) => u.items),
    },
    replay: {
      unitsDone: replay.filter((u) => u.done).length,
      objects: sum(replay, (u) => u.objects),
      records: sum(replay, (u) => u.kept),
      duplicates: sum(replay, (u) => u.duplicates),
      puts: sum(replay, (u) => u.puts),
      deletes: sum(replay, (u) => u.deletes),
    },
  };
}
