import type { BackupRecord } from './catalog-model';
import { restorableWindow } from './restore-plan';
import type { Micros } from './time';

/**
 * The retention policy (pure; `now` is a parameter). It never breaks PITR (docs/design.md §3.7): it
 * keeps everything needed to restore any instant of [now − retention, checkpoint] — the newest
 * snapshot that restores the window start (the anchor) and every log object from the anchor's
 * `startTs − margin` — plus the newest completed snapshot and every manual backup (with the log
 * over its own scan window, so `--to backup:ID` keeps working). FAILED leftovers go after a
 * grace period. Everything else is deleted, each decision with its reason.
 */
export interface LogObjectSummary {
  key: string;
  table: string;
  minTs: Micros;
  maxTs: Micros;
}

export interface RetentionInput {
  now: Micros;
  retentionDays: number;
  backups: BackupRecord[];
  logObjects: LogObjectSummary[];
  checkpoint: Micros | undefined;
  marginMicros: number;
  /** FAILED backups younger than this keep their objects (someone may be investigating). */
  failedGraceMicros: number;
  /** What running restores read: their backup and log range are kept, whatever their age. */
  holds?: RestoreHold[];
}

/** A running restore's hold: the backup it loads and the log range it replays. */
export interface RestoreHold {
  restoreId: string;
  backupId: string;
  logFrom: Micros;
  logTo: Micros;
}

export type RetentionSubject = { type: 'backup'; backupId: string } | { type: 'log'; key: string };
export type RetentionDecision = RetentionSubject & { reason: string };

export interface RetentionPlan {
  windowStart: Micros;
  /** Log objects wholly before this are not needed by any kept backup or the window. */
  logNeededFrom: Micros | undefined;
  keep: RetentionDecision[];
  delete: RetentionDecision[];
}

const DAY = 86_400_000_000;

type Restorable = BackupRecord & { restorableFrom: number; startTs: number };
const isRestorable = (b: BackupRecord): b is Restorable =>
  b.status === 'COMPLETED' && b.restorableFrom !== undefined && b.startTs !== undefined;

export function planRetention(input: RetentionInput): RetentionPlan {
  const windowStart = input.now - input.retentionDays * DAY;
  const completed = input.backups.filter(isRestorable).sort((a, b) => a.restorableFrom - b.restorableFrom);
  const newest = completed.at(-1);
  // The anchor restores the window start; with none old enough, the oldest one restores the
  // earliest instant that is restorable at all.
  const anchor = completed.filter((b) => b.restorableFrom <= windowStart).at(-1) ?? completed[0];

  const keep: RetentionDecision[] = [];
  const remove: RetentionDecision[] = [];
  const needed: { from: Micros; to: Micros; restoreId?: string }[] = [];
  if (anchor) needed.push({ from: anchor.startTs - input.marginMicros, to: Number.POSITIVE_INFINITY });

  const holds = input.holds ?? [];
  for (const hold of holds) needed.push({ from: hold.logFrom, to: hold.logTo, restoreId: hold.restoreId });
  for (const backup of input.backups) {
    const subject = { type: 'backup' as const, backupId: backup.backupId };
    const hold = holds.find((h) => h.backupId === backup.backupId);
    const reason =
      hold && backup.status !== 'DELETED'
        ? { keep: true, why: `in use by restore ${hold.restoreId}` }
        : backupReason(backup, { anchor, newest, windowStart, input });
    if (reason.keep) {
      keep.push({ ...subject, reason: reason.why });
      if (isRestorable(backup) && backup !== anchor) {
        needed.push({ from: backup.startTs - input.marginMicros, to: backup.restorableFrom });
      }
    } else if (reason.why) {
      remove.push({ ...subject, reason: reason.why });
    }
  }

  const logNeededFrom = needed.length > 0 ? Math.min(...needed.map((n) => n.from)) : undefined;
  for (const object of input.logObjects) {
    const subject = { type: 'log' as const, key: object.key };
    if (!anchor) {
      keep.push({ ...subject, reason: 'no completed snapshot yet: every change may be needed' });
      continue;
    }
    const use = needed.find((n) => object.maxTs >= n.from && object.minTs <= n.to);
    if (use) {
      keep.push({
        ...subject,
        reason: use.restoreId
          ? `in use by restore ${use.restoreId}`
          : use.to === Number.POSITIVE_INFINITY
            ? 'log of the retention window'
            : 'log of a kept backup',
      });
    } else {
      remove.push({ ...subject, reason: 'log before every kept snapshot and the retention window' });
    }
  }
  return { windowStart, logNeededFrom, keep, delete: remove };
}

function backupReason(
  backup: BackupRecord,
  ctx: { anchor?: Restorable; newest?: Restorable; windowStart: Micros; input: RetentionInput },
): { keep: boolean; why: string } {
  switch (backup.status) {
    case 'DELETED':
      return { keep: false, why: '' }; // already gone: neither kept nor deleted again
    case 'RUNNING':
      return { keep: true, why: 'running' };
    case 'FAILED':
      return backup.requestedAt >= ctx.input.now - ctx.input.failedGraceMicros
        ? { keep: true, why: 'failed, within the grace period' }
        : { keep: false, why: 'failed leftovers past the grace period' };
    case 'COMPLETED': {
      if (backup.backupId === ctx.newest?.backupId) return { keep: true, why: 'newest completed snapshot' };
      if (backup.kind === 'manual') return { keep: true, why: 'manual backup (kept until deleted)' };
      if (backup.backupId === ctx.anchor?.backupId)
        return { keep: true, why: 'restores the start of the retention window' };
      if ((backup.restorableFrom ?? 0) > ctx.windowStart)
        return { keep: true, why: 'within the retention window' };
      return { keep: false, why: 'automatic backup older than the retention window' };
    }
  }
}

/** The instants a retention plan promises stay restorable. */
export function protectedWindow(input: RetentionInput): { from: Micros; to: Micros } | undefined {
  const { earliest } = restorableWindow(input.backups, input.checkpoint);
  if (earliest === undefined || input.checkpoint === undefined) return undefined;
  const from = Math.max(earliest, input.now - input.retentionDays * DAY);
  return from <= input.checkpoint ? { from, to: input.checkpoint } : undefined;
}
