import { Presets, SingleBar } from 'cli-progress';
import type { ObjectStore } from '../functions/adapters/object-store';
import { partReportPrefix } from '../functions/core/keys';
import type { OutStream } from './io';

export interface BackupProgressState {
  status: string;
  /** Segments whose scan reached the end of their slice (part reports with `done: true`). */
  segmentsDone: number;
  elapsedMs: number;
}

export interface Progress {
  update(state: BackupProgressState): void;
  stop(): void;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/**
 * Progress of a running backup on stderr: a redrawn line (cli-progress) on a TTY, otherwise a
 * plain line whenever something changed, and at least every `plainEveryMs`.
 */
export function backupProgress(stream: OutStream, backupId: string, plainEveryMs = 10_000): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format: `backup ${backupId} {status} | {segments} segments done | {elapsed}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(1, 0, { status: 'RUNNING', segments: 0, elapsed: '0s' });
    return {
      update: (s) =>
        bar.update(0, { status: s.status, segments: s.segmentsDone, elapsed: seconds(s.elapsedMs) }),
      stop: () => bar.stop(),
    };
  }
  let last = '';
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    update: (s) => {
      const key = `${s.status} ${s.segmentsDone}`;
      if (key === last && s.elapsedMs - lastAt < plainEveryMs) return;
      last = key;
      lastAt = s.elapsedMs;
      stream.write(
        `backup ${backupId}: ${s.status}, ${s.segmentsDone} segments done, ${seconds(s.elapsedMs)}\n`,
      );
    },
    stop: () => {},
  };
}

/**
 * Counts finished segments from the part reports under `<snapshot>/_parts/`. Reports are
 * written once and never change, so each is read at most once. Best effort: a failure to list
 * or read leaves the count where it was.
 */
export class SegmentCounter {
  private readonly done = new Set<string>();
  private readonly notDone = new Set<string>();

  constructor(private readonly store: ObjectStore) {}

  async count(snapshotPrefix: string | undefined): Promise<number> {
    if (!snapshotPrefix) return this.done.size;
    try {
      for await (const { key } of this.store.list(partReportPrefix(snapshotPrefix))) {
        if (this.done.has(key) || this.notDone.has(key)) continue;
        const report = JSON.parse((await this.store.get(key)).toString('utf8')) as { done?: unknown };
        (report.done === true ? this.done : this.notDone).add(key);
      }
    } catch {
      // Progress only: the catalog decides when the backup is over.
    }
    return this.done.size;
  }
}
