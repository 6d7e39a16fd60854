import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fmt, fmtInt, log, MB, renderTable } from '../support';
import { CLUSTER, ROOT } from './context';
import type { SegmentWorkerResult } from './segment-worker';

// Segment worker RSS, each in a fresh child process (bench/snapshot/segment-worker.ts).

let currentChild: ReturnType<typeof spawn> | undefined;

async function segmentWorkerChild(
  mode: 'idle' | 'worker',
  dir: string,
  table: string,
  prefix: string,
  pageLimit: number | undefined,
  nodeOptions: string[] = [],
): Promise<SegmentWorkerResult> {
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      '--import',
      'tsx',
      join(ROOT, 'bench', 'snapshot', 'segment-worker.ts'),
      mode,
      dir,
      table,
      prefix,
      String(pageLimit ?? 0),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  currentChild = child;
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-2000);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  currentChild = undefined;
  if (code !== 0)
    throw new Error(
      `segment worker (${mode} ${nodeOptions.join(' ')}) exited with ${signal ?? `code ${code}`}: ` +
        (err.trim().split('\n').slice(-3).join(' | ') || '(no output)'),
    );
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as SegmentWorkerResult;
}

/** Ends the segment worker child still running, if any (the bench is being interrupted). */
export function killSegmentWorkerChild(): void {
  currentChild?.kill('SIGKILL');
}

export interface WorkerRss {
  idle: SegmentWorkerResult;
  small: SegmentWorkerResult;
  large: SegmentWorkerResult;
  /** The large table again, V8 old space capped at the small run's peak heap. */
  capped: { capMb: number; result?: SegmentWorkerResult; failure?: string };
}

/** Peak RSS of one worker (TotalSegments 1), a fresh process each. */
export async function measureWorkerRss(opts: {
  dir: string;
  pageLimit: number | undefined;
  smallTable: string;
  smallItems: number;
  mainTable: string;
  items: number;
}): Promise<WorkerRss> {
  const { mainTable, smallTable, items } = opts;
  log('segment worker RSS: idle, small, large, large with a capped heap (one child process each)');
  const child = (mode: 'idle' | 'worker', table: string, name: string, nodeOptions: string[] = []) =>
    segmentWorkerChild(
      mode,
      opts.dir,
      table,
      `v1/${CLUSTER}/snapshots/${name}/`,
      opts.pageLimit,
      nodeOptions,
    );
  const idle = await child('idle', smallTable, 'rss-idle');
  const small = await child('worker', smallTable, 'rss-small');
  const large = await child('worker', mainTable, 'rss-large');
  if (small.items !== opts.smallItems || large.items !== items)
    throw new Error(`RSS workers scanned ${small.items} / ${large.items} items`);
  // A peak that grows with the table could be garbage the GC had not collected yet or data
  // held: if the large table completes in the heap the small one peaked at, it is the former.
  const capMb = Math.ceil(small.sampledPeakKb.heapUsed / 1024);
  const capped: WorkerRss['capped'] = { capMb };
  try {
    capped.result = await child('worker', mainTable, 'rss-capped', [`--max-old-space-size=${capMb}`]);
    if (capped.result.items !== items) capped.failure = `scanned ${capped.result.items} items`;
  } catch (error) {
    capped.failure = (error as Error).message;
  }
  return { idle, small, large, capped };
}

/** The report's lines on the worker's RSS, ending with a blank line. */
export function workerRssReport(r: WorkerRss): string[] {
  const out: string[] = [];
  out.push(
    renderTable([
      [
        'segment worker (child process)',
        'items',
        'raw MB',
        'stored MB',
        'chunks',
        'run s',
        'maxRSS KB',
        'over idle KB',
        'heapUsed KB*',
        'arrayBuffers KB*',
      ],
      ...(['idle', 'small', 'large', 'capped'] as const).map((k) => {
        const w = k === 'capped' ? r.capped.result : r[k];
        const idle = k === 'idle';
        const name =
          k === 'idle'
            ? 'idle: imports + clients + connect'
            : k === 'capped'
              ? `worker, large table, old space <= ${r.capped.capMb} MB`
              : `worker, ${k} table, TotalSegments 1`;
        if (!w) return [name, 'FAILED', '', '', '', '', '', '', '', ''];
        return [
          name,
          idle ? '—' : fmtInt(w.items),
          idle ? '—' : fmt(w.rawBytes / MB),
          idle ? '—' : fmt(w.storedBytes / MB),
          idle ? '—' : String(w.chunks),
          idle ? '—' : fmt(w.seconds),
          fmtInt(w.maxRssKb),
          idle ? '—' : `+${fmtInt(w.maxRssKb - r.idle.maxRssKb)}`,
          fmtInt(w.sampledPeakKb.heapUsed),
          fmtInt(w.sampledPeakKb.arrayBuffers),
        ];
      }),
    ]),
  );
  const incSmall = r.small.maxRssKb - r.idle.maxRssKb;
  const incLarge = r.large.maxRssKb - r.idle.maxRssKb;
  out.push(
    `large/small: data ${fmt(r.large.rawBytes / r.small.rawBytes)}x, maxRSS ` +
      `${fmt(r.large.maxRssKb / r.small.maxRssKb)}x, increment over idle ${fmt(incLarge / incSmall)}x ` +
      `(+${fmtInt(incLarge - incSmall)} KB for +${fmt((r.large.rawBytes - r.small.rawBytes) / MB)} MB raw)`,
  );
  out.push(
    r.capped.result && !r.capped.failure
      ? `large table with V8 old space capped at the small run's peak heap (${r.capped.capMb} MB): ` +
          `completed, maxRSS ${fmtInt(r.capped.result.maxRssKb)} KB (${fmt(r.capped.result.maxRssKb / r.small.maxRssKb)}x small) ` +
          '-> the larger table needs no more old-generation heap than the small one'
      : `large table with V8 old space capped at ${r.capped.capMb} MB: FAILED (${r.capped.failure}) ` +
          '-> the worker needs more heap for the larger table',
  );
  out.push(
    'maxRSS = process.resourceUsage().maxRSS in the child right after run(); * = peak of 25 ms samples ' +
      'of process.memoryUsage() (arrayBuffers = Buffers outside the JS heap, e.g. gzip output held for the upload)',
  );
  out.push('');
  return out;
}

/** The worker's RSS in the result file, with the ratios the report prints. */
export function workerRssResult(rss: WorkerRss) {
  return {
    ...rss,
    incrementSmallKb: rss.small.maxRssKb - rss.idle.maxRssKb,
    incrementLargeKb: rss.large.maxRssKb - rss.idle.maxRssKb,
    maxRssRatio: rss.large.maxRssKb / rss.small.maxRssKb,
    cappedMaxRssRatio: rss.capped.result ? rss.capped.result.maxRssKb / rss.small.maxRssKb : null,
  };
}
