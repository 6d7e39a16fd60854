import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { BridgePositions } from './change-bridge';

/**
 * Bridge positions kept in a JSON file of the local cloud's folder, so they survive a stop or a
 * crash as the emulators' data does. Writes are atomic (temporary file, then rename) and
 * coalesced: at most one in flight, the newest positions win; a clean stop waits for them.
 * A crash between a put and its position's write makes the restarted bridge forward those few
 * changes again, in stream order, with new timestamps (docs/local-differences.md: a restore to
 * an instant between the re-forwarded copies could see an item's older image; AWS's own capture
 * has no such window).
 */
export function positionsFile(path: string): BridgePositions & { flushed(): Promise<void> } {
  let initial: Record<string, string> = {};
  try {
    initial = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let next: Record<string, string> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const drain = async () => {
    while (next) {
      const text = JSON.stringify(next);
      next = undefined;
      await writeFile(`${path}.tmp`, text);
      await rename(`${path}.tmp`, path);
    }
  };
  return {
    initial,
    save(positions) {
      const idle = next === undefined;
      next = positions;
      if (idle) writing = writing.then(drain, drain);
    },
    flushed: () => writing,
  };
}
