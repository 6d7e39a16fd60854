import { RewindError } from '../functions/core/errors';
import type { Sleeper } from './sleeper';

/**
 * The loops the local event sources (change bridge, Kinesis poller) share: poll until stopped
 * with a backoff after failures, log errors without flooding, run discovery one call at a time,
 * and let flush() wait for the readers to catch up.
 */

/** Pause after the `failures`-th failure in a row: 200 ms, doubling, at most 5 s. */
export const failureBackoffMs = (failures: number) => Math.min(5_000, 200 * 2 ** failures);

/**
 * Run `round` until the sleeper is stopped or `finished()` holds. A round paces itself; one that
 * throws goes to `failed` and the next starts after `failureBackoffMs`, growing until a round
 * gets through. While `pause.when()` holds, the loop only sleeps `pause.ms`: no round, and a
 * streak of failures before the pause goes on after it.
 */
export async function pollUntilStopped(opts: {
  timers: Pick<Sleeper, 'sleep' | 'stopped'>;
  round: () => Promise<void>;
  failed: (err: unknown) => void;
  finished?: () => boolean;
  pause?: { when: () => boolean; ms: number };
}): Promise<void> {
  const { timers, pause } = opts;
  for (let failures = 0; !timers.stopped() && !opts.finished?.(); ) {
    try {
      if (pause?.when()) {
        await timers.sleep(pause.ms);
        continue;
      }
      await opts.round();
      failures = 0;
    } catch (err) {
      opts.failed(err);
      await timers.sleep(failureBackoffMs(failures++));
    }
  }
}

/**
 * `report(where, err)` logs `where: <name>: <message><suffix>`, the same message at most every
 * 30 s per place, and nothing once stopped: errors of work cut short by stop() are expected.
 * `counted` runs for every error reported while not stopped, logged or not.
 */
export function createErrorReporter(opts: {
  log: (line: string) => void;
  stopped: () => boolean;
  suffix?: string;
  counted?: () => void;
}): (where: string, err: unknown) => void {
  const lastLogged = new Map<string, { message: string; at: number }>();
  return (where, err) => {
    if (opts.stopped()) return;
    opts.counted?.();
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const previous = lastLogged.get(where);
    if (previous?.message === message && Date.now() - previous.at < 30_000) return;
    lastLogged.set(where, { message, at: Date.now() });
    opts.log(`${where}: ${message}${opts.suffix ?? ''}`);
  };
}

/**
 * One call of `work` at a time: `join()` returns the call in flight or starts one; `fresh()`
 * waits out the call in flight (it may have read its inputs too early) and starts a new one.
 */
export function singleFlight(work: () => Promise<void>) {
  let current: Promise<void> | undefined;
  const join = (): Promise<void> => {
    current ??= (async () => {
      try {
        await work();
      } finally {
        current = undefined;
      }
    })();
    return current;
  };
  return {
    join,
    async fresh(): Promise<void> {
      await current?.catch(() => undefined);
      await join();
    },
  };
}

/**
 * Resolves once `lagging()` (the readers not yet caught up, by name) is empty, checked every
 * 10 ms; throws a RewindError naming `what` once stopped, or naming the laggards after `timeoutMs`.
 */
export async function waitUntilCaughtUp(opts: {
  what: string;
  lagging: () => string[];
  stopped: () => boolean;
  timeoutMs: number;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const lagging = opts.lagging();
    if (lagging.length === 0) return;
    if (opts.stopped()) throw new RewindError(`${opts.what} stopped before it caught up`);
    if (Date.now() > deadline)
      throw new RewindError(`${opts.what} not caught up after ${opts.timeoutMs} ms: ${lagging.join(', ')}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}
