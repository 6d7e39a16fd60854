import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { demoItem, loadItems, range } from '../demo/workload';

/** Helpers shared by the benchmarks: statistics, CPU accounting, a bounded pool, formatting. */

/** Progress lines: stderr, so that stdout holds only the report. */
export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

export const MB = 1_000_000;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  const lo = sorted[mid - 1] ?? hi;
  return sorted.length % 2 ? hi : (lo + hi) / 2;
}

/** Wall seconds `work` took, with its result. */
export async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Run `task(i)` for i in [0, count) with at most `concurrency` in flight (a Map's MaxConcurrency). */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  return results;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user+system CPU seconds a process (all its threads) has used so far; NaN when unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export interface CpuSplit {
  /** This process: bench driver, SDK clients, the in-process Lambda stand-ins, control plane. */
  node: number;
  dynamodb: number;
  s3: number;
}

/** Snapshot CPU counters now; call the result to get the CPU seconds used since. */
export function cpuMeter(pids: { dynamodb: number; s3: number }): () => CpuSplit {
  const start = process.cpuUsage();
  const ddb0 = processCpuSeconds(pids.dynamodb);
  const s30 = processCpuSeconds(pids.s3);
  return () => {
    const used = process.cpuUsage(start);
    return {
      node: (used.user + used.system) / 1e6,
      dynamodb: processCpuSeconds(pids.dynamodb) - ddb0,
      s3: processCpuSeconds(pids.s3) - s30,
    };
  };
}

/** Counts requests and the time spent inside `send()` (wire + (de)serialisation) of a client. */
export interface SendTimer {
  requests: number;
  seconds: number;
  reset(): void;
}

export function timeSends(client: DynamoDBClient): SendTimer {
  const timer: SendTimer = {
    requests: 0,
    seconds: 0,
    reset() {
      timer.requests = 0;
      timer.seconds = 0;
    },
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const t0 = performance.now();
      try {
        return await next(args);
      } finally {
        timer.requests += 1;
        timer.seconds += (performance.now() - t0) / 1000;
      }
    },
    { step: 'initialize', name: 'benchSendTimer' },
  );
  return timer;
}

export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** A plain text table: first row is the header, columns right-aligned except the first. */
export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const [header, ...body] = rows;
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [header ? line(header) : '', rule, ...body.map(line)].join('\n');
}

/** An integer setting from `--name=N` / `--name N`, else env, else the default. */
export function intSetting(flag: string, envName: string, fallback: number): number {
  const argv = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === `--${flag}`) raw = argv[i + 1];
    else if (arg.startsWith(`--${flag}=`)) raw = arg.slice(flag.length + 3);
  }
  raw ??= process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${flag} / ${envName} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** Put demoItem('orders', i) for i in [0, count) into `table`, 8 BatchWriteItem requests in flight. */
export async function loadDemoOrders(client: DynamoDBClient, table: string, count: number): Promise<void> {
  await loadItems(
    client,
    table,
    (function* () {
      for (const i of range(count)) yield demoItem('orders', i);
    })(),
    { concurrency: 8 },
  );
}
