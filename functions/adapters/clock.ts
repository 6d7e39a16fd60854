import { performance } from 'node:perf_hooks';
import type { Micros } from '../core/time';

/**
 * Wall-clock now in microseconds. `timeOrigin + now()` has sub-millisecond resolution and never
 * goes backwards within a process, unlike `Date.now() * 1000`.
 */
export function nowMicros(): Micros {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
