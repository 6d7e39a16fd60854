import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { demoItem, range } from '../../demo/workload';
import { exportLine, fromSdkItem } from '../../functions/core/dynamo-json';
import { exportLines } from '../../functions/core/export-line';
import { fmt, fmtInt, MB, renderTable } from '../support';

// CPU cost of each step of the worker, single thread, no I/O: where a worker's CPU would go.

export interface StepCost {
  step: string;
  /** Raw (export-line) MB processed per CPU second, best of 3. */
  rawMBps: number;
  outBytes?: number;
}

export function cpuCosts(count: number): { rawBytes: number; steps: StepCost[] } {
  const items = Array.from(range(count), (i) => demoItem('orders', i) as Record<string, unknown>);
  const best = (fn: () => void) => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      fn();
      const used = process.cpuUsage(t0);
      min = Math.min(min, (used.user + used.system) / 1e6);
    }
    return min;
  };
  // The worker's path (scan-segment run): fast export lines encoded straight into a buffer.
  let raw: Buffer = Buffer.alloc(0);
  const serializeSeconds = best(() => {
    raw = exportLines(items.map(fromSdkItem));
  });
  // The earlier path, for comparison: exportLine per item, one string per page, encoded to count
  // it and again to write it.
  const originalSeconds = best(() => {
    let text = '';
    for (const item of items) text += exportLine(fromSdkItem(item));
    Buffer.byteLength(text);
    Buffer.from(text);
  });
  const steps: StepCost[] = [
    { step: 'export lines (exportLines: fast lines -> UTF-8)', rawMBps: raw.length / MB / serializeSeconds },
    { step: 'export lines, before (exportLine, page string)', rawMBps: raw.length / MB / originalSeconds },
  ];
  for (const level of [1, 6]) {
    let out = Buffer.alloc(0);
    const seconds = best(() => {
      out = gzipSync(raw, { level });
    });
    steps.push({ step: `gzip level ${level}`, rawMBps: raw.length / MB / seconds, outBytes: out.length });
  }
  const gz = gzipSync(raw, { level: 1 });
  const shaSeconds = best(() => {
    createHash('sha256').update(gz).digest('hex');
  });
  steps.push({ step: 'SHA-256 of the gzip-1 output', rawMBps: raw.length / MB / shaSeconds });
  return { rawBytes: raw.length, steps };
}

export type CpuCosts = ReturnType<typeof cpuCosts>;

/** The report's table of `cpuCosts(count)`. */
export function cpuCostTable(costs: CpuCosts, count: number): string {
  return renderTable([
    [`CPU per step (single thread, ${fmtInt(count)} items)`, 'raw MB per CPU s', 'out'],
    ...costs.steps.map((c) => [
      c.step,
      fmt(c.rawMBps, 0),
      c.outBytes === undefined ? '' : `${fmt(costs.rawBytes / c.outBytes, 2)}x smaller`,
    ]),
  ]);
}
