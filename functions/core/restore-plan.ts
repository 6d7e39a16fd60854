import type { BackupRecord } from './catalog-model';
import {
  BackupNotFoundError,
  InvalidInputError,
  RestoreCrossesGapError,
  RestorePointAfterCheckpointError,
  RestorePointTooEarlyError,
} from './errors';
import { formatIsoMicros, type Micros } from './time';

/**
 * The restore planner (pure). For restore point T it picks the newest COMPLETED snapshot that
 * can restore T (restorableFrom = endTs + margin ≤ T) and the log window
 * [snapshot.startTs − margin, T] to replay over it (docs/design.md §3.2), and refuses — naming the
 * valid window — a T after the checkpoint, before the earliest restorable instant, or whose
 * replay would cross a gap.
 */
export type RestoreTarget =
  | { kind: 'instant'; at: Micros }
  | { kind: 'latest' }
  | { kind: 'backup'; backupId: string };

export interface Gap {
  gapId: string;
  /** Undefined: the gap may hold changes of any table (e.g. an undecodable record). */
  table?: string;
  fromTs: Micros;
  toTs: Micros;
}

export interface PlannerInput {
  clusterName: string;
  clusterTables: string[];
  /** Restrict to these tables (default: every table of the snapshot). */
  tables?: string[];
  target: RestoreTarget;
  backups: BackupRecord[];
  /** Log backup checkpoint; undefined while log backup has not completed a first pass. */
  checkpoint: Micros | undefined;
  gaps: Gap[];
  /** Skew margin (µs) between worker clocks and change timestamps (docs/design.md §3.2). */
  marginMicros: number;
}

export interface RestorePlan {
  clusterName: string;
  restorePoint: Micros;
  snapshot: {
    backupId: string;
    manifestKey: string;
    snapshotPrefix: string;
    startTs: Micros;
    endTs: Micros;
  };
  /** Replay every change with logFrom ≤ ts ≤ logTo. */
  logFrom: Micros;
  logTo: Micros;
  tables: string[];
}

export interface RestorableWindow {
  earliest: Micros | undefined;
  latest: Micros | undefined;
}

const restorable = (backups: BackupRecord[]) =>
  backups.filter(
    (
      b,
    ): b is BackupRecord & {
      restorableFrom: number;
      startTs: number;
      endTs: number;
      manifestKey: string;
      snapshotPrefix: string;
    } =>
      b.status === 'COMPLETED' &&
      b.restorableFrom !== undefined &&
      b.startTs !== undefined &&
      b.endTs !== undefined &&
      b.manifestKey !== undefined &&
      b.snapshotPrefix !== undefined,
  );

/** [earliest, latest] instants a restore can target, ignoring gaps. */
export function restorableWindow(backups: BackupRecord[], checkpoint: Micros | undefined): RestorableWindow {
  const froms = restorable(backups).map((b) => b.restorableFrom);
  const earliest = froms.length > 0 ? Math.min(...froms) : undefined;
  const latest =
    earliest !== undefined && checkpoint !== undefined && checkpoint >= earliest ? checkpoint : undefined;
  return { earliest, latest };
}

const iso = (micros: Micros | undefined) => (micros === undefined ? undefined : formatIsoMicros(micros));

export function planRestore(input: PlannerInput): RestorePlan {
  const candidates = restorable(input.backups);
  const { earliest } = restorableWindow(input.backups, input.checkpoint);

  const restorePoint = resolveTarget(input, candidates);
  const isoPoint = formatIsoMicros(restorePoint);
  if (input.checkpoint === undefined || restorePoint > input.checkpoint) {
    throw new RestorePointAfterCheckpointError(
      isoPoint,
      iso(input.checkpoint) ?? '(none yet)',
      iso(earliest),
    );
  }
  const snapshot = candidates
    .filter((b) => b.restorableFrom <= restorePoint)
    .sort((a, b) => b.restorableFrom - a.restorableFrom || b.endTs - a.endTs)[0];
  if (!snapshot) throw new RestorePointTooEarlyError(isoPoint, iso(earliest), iso(input.checkpoint));

  const snapshotTables = snapshot.tables.map((t) => t.name);
  const tables = input.tables ?? snapshotTables;
  for (const table of tables) {
    if (!snapshotTables.includes(table)) {
      throw new InvalidInputError(
        'tables',
        `tables of backup ${snapshot.backupId} (${snapshotTables.join(', ')}), got "${table}"${input.clusterTables.includes(table) ? ' (in the cluster, but not in that snapshot)' : ''}`,
      );
    }
  }

  const logFrom = snapshot.startTs - input.marginMicros;
  const crossed = input.gaps
    .filter((g) => g.table === undefined || tables.includes(g.table))
    .filter((g) => g.fromTs <= restorePoint && g.toTs >= logFrom)
    .sort((a, b) => a.fromTs - b.fromTs)[0];
  if (crossed) {
    throw new RestoreCrossesGapError(isoPoint, {
      gapId: crossed.gapId,
      fromTs: formatIsoMicros(crossed.fromTs),
      toTs: formatIsoMicros(crossed.toTs),
      table: crossed.table,
    });
  }

  return {
    clusterName: input.clusterName,
    restorePoint,
    snapshot: {
      backupId: snapshot.backupId,
      manifestKey: snapshot.manifestKey,
      snapshotPrefix: snapshot.snapshotPrefix,
      startTs: snapshot.startTs,
      endTs: snapshot.endTs,
    },
    logFrom,
    logTo: restorePoint,
    tables,
  };
}

function resolveTarget(input: PlannerInput, candidates: ReturnType<typeof restorable>): Micros {
  switch (input.target.kind) {
    case 'instant':
      return input.target.at;
    case 'latest': {
      if (input.checkpoint === undefined) {
        throw new RestorePointAfterCheckpointError(
          'latest',
          '(none yet)',
          iso(restorableWindow(input.backups, undefined).earliest),
        );
      }
      return input.checkpoint;
    }
    case 'backup': {
      const { backupId } = input.target;
      const backup = candidates.find((b) => b.backupId === backupId);
      if (!backup) {
        if (!input.backups.some((b) => b.backupId === backupId))
          throw new BackupNotFoundError(input.clusterName, backupId);
        throw new InvalidInputError('to', `a COMPLETED backup, but backup ${backupId} is not restorable`);
      }
      return backup.restorableFrom;
    }
  }
}

/** Parse `--to`: an ISO instant, `latest`, or `backup:ID`. */
export function parseRestoreTarget(text: string, parseInstant: (t: string) => Micros): RestoreTarget {
  if (text === 'latest') return { kind: 'latest' };
  if (text.startsWith('backup:')) {
    const backupId = text.slice('backup:'.length);
    if (!backupId) throw new InvalidInputError('to', 'backup:<backupId> with a backup id');
    return { kind: 'backup', backupId };
  }
  return { kind: 'instant', at: parseInstant(text) };
}
