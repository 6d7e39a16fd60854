import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { SetComparison } from '../../demo/snapshot-check';
import type { LocalFunctionOverrides } from '../../local/functions';
import { type CpuSplit, fmt, fmtInt, MB, median, processName, renderTable } from '../support';
import {
  type BenchSettings,
  type Measurement,
  RESULT_PATH,
  ROOT,
  VARIANT_LABEL,
  type VariantId,
} from './context';
import { type CpuCosts, cpuCostTable } from './cpu-costs';
import { type WorkerRss, workerRssReport, workerRssResult } from './worker-rss';

/** Everything one bench run measured and checked, as main hands it over for reporting. */
export interface SnapshotBenchRun {
  items: number;
  rounds: number;
  rssSmall: number;
  breakdown: boolean;
  overrides: LocalFunctionOverrides;
  settings: BenchSettings;
  segments: number;
  concurrency: number;
  tableSizeBytes: number;
  /** Bytes of the table's export lines, the one figure every variant that builds them agreed on. */
  tableRawBytes: number;
  variants: VariantId[];
  measurements: Measurement[];
  rss: WorkerRss | undefined;
  costs: CpuCosts;
  comparison: SetComparison;
  verified: boolean;
  lastBackupId: string | undefined;
  /** Date.now() and the load average when the bench started. */
  started: number;
  loadavgAtStart: number[];
  emulatorPids: { dynamodb: number; s3: number };
}

/** One variant's runs as medians, rates and ratios against the same-run baseline. */
export interface Summary {
  variant: VariantId;
  label: string;
  runs: number;
  secondsMedian: number;
  secondsAll: number[];
  itemsPerSecond: number;
  rawMBps: number;
  storedMBps?: number;
  compression?: number;
  ratioVsBaseline: number;
  /** Median of the per-round ratios baseline-seconds / variant-seconds (paired, same round). */
  pairedRatioMedian: number;
  cpuMedian: CpuSplit;
  scanWaitShare?: number;
}

function summarize(
  variant: VariantId,
  runs: Measurement[],
  baselineRuns: Measurement[],
  tableRawBytes: number,
  items: number,
  concurrency: number,
): Summary {
  const seconds = median(runs.map((r) => r.seconds));
  const baseSeconds = median(baselineRuns.map((r) => r.seconds));
  const stored = runs.map((r) => r.storedBytes).filter((b): b is number => b !== undefined);
  const paired = runs
    .map((r) => {
      const base = baselineRuns.find((b) => b.round === r.round);
      return base ? base.seconds / r.seconds : Number.NaN;
    })
    .filter(Number.isFinite);
  const shares = runs
    .filter((r) => r.scanSendSeconds !== undefined)
    .map((r) => (r.scanSendSeconds ?? 0) / (r.seconds * concurrency));
  const storedMedian = stored.length ? median(stored) : undefined;
  return {
    variant,
    label: VARIANT_LABEL[variant],
    runs: runs.length,
    secondsMedian: seconds,
    secondsAll: runs.map((r) => r.seconds),
    itemsPerSecond: items / seconds,
    rawMBps: tableRawBytes / MB / seconds,
    ...(storedMedian !== undefined
      ? { storedMBps: storedMedian / MB / seconds, compression: tableRawBytes / storedMedian }
      : {}),
    ratioVsBaseline: baseSeconds / seconds,
    pairedRatioMedian: median(paired),
    cpuMedian: {
      node: median(runs.map((r) => r.cpu.node)),
      dynamodb: median(runs.map((r) => r.cpu.dynamodb)),
      s3: median(runs.map((r) => r.cpu.s3)),
    },
    ...(shares.length ? { scanWaitShare: median(shares) } : {}),
  };
}

/** Print the ratio report on stdout and write the full result to RESULT_PATH. */
export async function reportSnapshotBench(run: SnapshotBenchRun): Promise<void> {
  const { items, settings, segments, concurrency, measurements, comparison, rss } = run;
  const baselineRuns = measurements.filter((m) => m.variant === 'baseline');
  const summaries = run.variants.map((v) =>
    summarize(
      v,
      measurements.filter((m) => m.variant === v),
      baselineRuns,
      run.tableRawBytes,
      items,
      concurrency,
    ),
  );
  const pipelineRuns = measurements.filter((m) => m.variant === 'pipeline');
  const phase = (key: 'prepare' | 'scans' | 'finalize') =>
    median(pipelineRuns.map((m) => m.phases?.[key] ?? Number.NaN));
  const phases = { prepare: phase('prepare'), scans: phase('scans'), finalize: phase('finalize') };
  const tails = measurements.flatMap((m) => m.uploadTailSeconds ?? []);
  const nproc = availableParallelism();
  const pids = run.emulatorPids;
  const facts = {
    date: new Date().toISOString(),
    node: process.version,
    nproc,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGB: totalmem() / 1024 ** 3,
    freeMemoryGBAtEnd: freemem() / 1024 ** 3,
    loadavgAtStart: run.loadavgAtStart,
    loadavgAtEnd: loadavg(),
    emulatorProcesses: { dynamodb: processName(pids.dynamodb), s3: processName(pids.s3) },
  };
  const goal = 0.8;

  const out: string[] = [];
  out.push('Rewind snapshot benchmark (npm run bench:snapshot)');
  out.push(
    `machine: nproc ${nproc}, ${facts.cpuModel}, ${fmt(facts.memoryGB, 1)} GB RAM, node ${process.version}; ` +
      `load avg ${facts.loadavgAtStart.map((l) => fmt(l, 1)).join(' ')} at start, ` +
      `${facts.loadavgAtEnd.map((l) => fmt(l, 1)).join(' ')} at end`,
  );
  out.push(
    `table: ${fmtInt(items)} items of demoItem('orders', i), raw ${fmt(run.tableRawBytes / MB)} MB ` +
      `(${fmt(run.tableRawBytes / items, 0)} B/item; raw = UTF-8 bytes of the {"Item":…}\\n export lines, ` +
      `counted as ChunkWriter counts them), DynamoDB TableSizeBytes ${fmt(run.tableSizeBytes / MB)} MB`,
  );
  out.push(
    `segments ${segments} (prepare-snapshot's choice, checked in the manifest), concurrency ${concurrency}, ` +
      `ConsistentRead, page limit ${settings.pageLimit ?? 'none (1 MB pages)'}, chunk bound ` +
      `${fmt(settings.chunkMaxRawBytes / MB, 0)} MB raw` +
      (Object.keys(run.overrides).length ? `; overridden settings ${JSON.stringify(run.overrides)}` : ''),
  );
  out.push(
    `${run.rounds} measured round(s), order rotated each round, medians shown; warm-up excluded. ` +
      'MB = 10^6 bytes; every MB/s = table raw (or stored) bytes / that row’s median time.',
  );
  out.push('');
  const header = [
    'variant',
    'median s',
    'items/s',
    'raw MB/s',
    'stored MB/s',
    'gzip x',
    'vs A',
    'CPU s node/ddb/s3',
    'Scan wait',
  ];
  const rows = summaries.map((s) => [
    s.label,
    fmt(s.secondsMedian),
    fmtInt(s.itemsPerSecond),
    fmt(s.rawMBps),
    s.storedMBps === undefined ? '—' : fmt(s.storedMBps),
    s.compression === undefined ? '—' : fmt(s.compression, 1),
    `${fmt(s.ratioVsBaseline)}x`,
    `${fmt(s.cpuMedian.node, 1)}/${fmt(s.cpuMedian.dynamodb, 1)}/${fmt(s.cpuMedian.s3, 1)}`,
    s.scanWaitShare === undefined ? '—' : `${fmt(s.scanWaitShare * 100, 0)}%`,
  ]);
  out.push(renderTable([header, ...rows]));
  out.push('');
  for (const id of ['scanPhase', 'pipeline'] as const) {
    const s = summaries.find((x) => x.variant === id);
    if (!s) continue;
    out.push(
      `${s.label}: ${fmt(s.ratioVsBaseline)}x of baseline (median of paired per-round ratios ` +
        `${fmt(s.pairedRatioMedian)}x); goal >= ${goal}x: ${s.ratioVsBaseline >= goal ? 'met' : 'NOT met'}`,
    );
  }
  out.push(
    `pipeline phases (median s): start-backup + prepare ${fmt(phases.prepare)}, segment scans ` +
      `${fmt(phases.scans)}, finalize ${fmt(phases.finalize)}`,
  );
  const cpuTotal = (c: CpuSplit) => c.node + c.dynamodb + c.s3;
  const baseCpu = summaries.find((x) => x.variant === 'baseline');
  out.push(
    'CPU work per run (node+ddb+s3, median CPU s; less sensitive than wall time to other load): ' +
      summaries
        .map(
          (s) =>
            `${s.variant} ${fmt(cpuTotal(s.cpuMedian), 1)}` +
            (baseCpu && s !== baseCpu
              ? ` (A/this ${fmt(cpuTotal(baseCpu.cpuMedian) / cpuTotal(s.cpuMedian))}x)`
              : ''),
        )
        .join(', '),
  );
  out.push('per-round seconds:');
  for (const s of summaries)
    out.push(`  ${s.variant.padEnd(9)} ${s.secondsAll.map((x) => fmt(x)).join('  ')}`);
  out.push(
    'CPU s = CPU seconds used during the run by this node process (driver, SDK clients, in-process ' +
      `Lambda stand-ins, control plane) / DynamoDB Local (${facts.emulatorProcesses.dynamodb}) / s3rver; ` +
      `the machine has ${nproc} x wall seconds.`,
  );
  out.push(
    `Scan wait = time inside DynamoDB send() / (wall x ${concurrency} segments in flight): the share ` +
      'of the time a segment has a Scan request outstanding.',
  );
  if (tails.length)
    out.push(
      `scan phase uploads: ${tails.length} chunk(s), each a single PutObject once gzip ended (compressed ` +
        `chunk < the ${fmt((8 * 1024 * 1024) / MB, 1)} MB part size); wait after the last page: median ` +
        `${fmt(median(tails) * 1000, 0)} ms, max ${fmt(Math.max(...tails) * 1000, 0)} ms`,
    );
  out.push('');
  out.push(cpuCostTable(run.costs, Math.min(items, 10_000)));
  out.push('');
  if (rss) out.push(...workerRssReport(rss));
  out.push(
    'verification (last pipeline snapshot vs live table, demo/snapshot-check compareItemSets, every ' +
      `chunk's SHA-256 and size checked): expected ${fmtInt(comparison.expected)}, actual ` +
      `${fmtInt(comparison.actual)}, missing ${comparison.missing}, unexpected ${comparison.unexpected}, ` +
      `duplicates ${comparison.duplicates} -> ${run.verified ? 'OK' : 'FAILED'}`,
  );
  out.push(`total bench time ${fmt((Date.now() - run.started) / 1000, 0)} s; result in ${RESULT_PATH}`);
  process.stdout.write(`${out.join('\n')}\n`);

  await mkdir(join(ROOT, '.bench'), { recursive: true });
  await writeFile(
    RESULT_PATH,
    `${JSON.stringify(
      {
        benchmark: 'snapshot',
        facts,
        config: {
          items,
          rounds: run.rounds,
          rssSmallItems: run.rssSmall,
          breakdown: run.breakdown,
          overrides: run.overrides,
          segments,
          concurrency,
          tableSizeBytes: run.tableSizeBytes,
          tableRawBytes: run.tableRawBytes,
          settings,
        },
        rawBytesDefinition: 'UTF-8 bytes of the export lines {"Item":{…}}\\n, as ChunkWriter counts them',
        goal: { pipelineOverBaseline: goal },
        summaries,
        pipelinePhasesMedianSeconds: phases,
        measurements,
        cpuCosts: run.costs,
        rss: rss ? workerRssResult(rss) : null,
        verification: { ...comparison, verified: run.verified, backupId: run.lastBackupId },
        totalSeconds: (Date.now() - run.started) / 1000,
      },
      null,
      2,
    )}\n`,
  );
}
