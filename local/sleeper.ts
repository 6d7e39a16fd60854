import { setMaxListeners } from 'node:events';

/**
 * Timers for the local event sources' polling loops: stop() ends every sleep at once, and wake()
 * ends the wakeable ones (idle polls) so that a flush() polls now rather than at the next tick.
 */
export interface Sleeper {
  sleep(ms: number, wakeable?: boolean): Promise<void>;
  wake(): void;
  stop(): void;
  stopped(): boolean;
}

export function createSleeper(): Sleeper {
  const stopper = new AbortController();
  const waker = new EventTarget();
  // Every shard reader sleeps on these at once.
  setMaxListeners(0, stopper.signal, waker);
  return {
    sleep: (ms, wakeable = false) =>
      new Promise<void>((done) => {
        if (stopper.signal.aborted) return done();
        const timer = setTimeout(finish, ms);
        function finish() {
          clearTimeout(timer);
          stopper.signal.removeEventListener('abort', finish);
          waker.removeEventListener('wake', finish);
          done();
        }
        stopper.signal.addEventListener('abort', finish);
        if (wakeable) waker.addEventListener('wake', finish);
      }),
    wake: () => waker.dispatchEvent(new Event('wake')),
    stop: () => stopper.abort(),
    stopped: () => stopper.signal.aborted,
  };
}

/** Wait until every promise of `work` has settled, or `graceMs` passed; true when all did. */
export async function settleWithin(work: Iterable<Promise<unknown>>, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), graceMs);
  });
  try {
    return await Promise.race([Promise.allSettled([...work]).then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
