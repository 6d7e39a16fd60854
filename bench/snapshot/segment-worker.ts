/**
 * One scan-segment worker in a process of its own, so its peak RSS can be read in isolation.
 * Started by bench/snapshot/worker-rss.ts as
 *   node --import tsx bench/snapshot/segment-worker.ts <idle|worker> <local-cloud-dir> <table> <prefix> [pageLimit]
 * `idle` imports the same modules, builds the same clients and connects (DescribeTable +
 * HeadBucket) but scans nothing: its maxRSS is the floor the worker's is compared with.
 * Prints one JSON line on stdout. Besides the kernel's peak (maxRSS), it samples
 * process.memoryUsage() every 25 ms to show which part of the footprint moves (JS heap vs
 * buffers outside it).
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store';
import { partReportKey } from '../../functions/core/keys';
import { type PartReport, partReport } from '../../functions/core/manifest';
import { run } from '../../functions/scan-segment/run';
import { dynamoClient, readLocalConfig, s3Client } from '../../local/clients';
import { benchSettings } from './context';

export interface SegmentWorkerResult {
  mode: 'idle' | 'worker';
  /** process.resourceUsage().maxRSS right after the run, in KB. */
  maxRssKb: number;
  seconds: number;
  items: number;
  rawBytes: number;
  storedBytes: number;
  chunks: number;
  /** Peaks of 25 ms samples of process.memoryUsage(), in KB. */
  sampledPeakKb: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

function memorySampler() {
  const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const key of Object.keys(peak) as (keyof typeof peak)[])
      peak[key] = Math.max(peak[key], Math.round(m[key] / 1024));
  };
  sample();
  const timer = setInterval(sample, 25);
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}

async function main(): Promise<void> {
  const [mode, dir, table, prefix, limit] = process.argv.slice(2);
  if ((mode !== 'idle' && mode !== 'worker') || !dir || !table || !prefix)
    throw new Error('usage: segment-worker.ts <idle|worker> <local-cloud-dir> <table> <prefix> [pageLimit]');
  const pageLimit = Number(limit ?? 0) > 0 ? Number(limit) : undefined;
  const cfg = await readLocalConfig(dir);
  const dynamodb = dynamoClient(cfg);
  const s3 = s3Client(cfg);
  const store = new S3ObjectStore(s3, cfg.bucket);
  const settings = benchSettings(cfg);
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    await s3.send(new HeadBucketCommand({ Bucket: cfg.bucket }));

    const stopSampling = memorySampler();
    const t0 = performance.now();
    let items = 0;
    if (mode === 'worker') {
      const out = await run(
        { cluster: 'bench', backupId: 'rss', snapshotPrefix: prefix, table, segment: 0, totalSegments: 1 },
        {
          dynamodb,
          store,
          remainingMs: () => 3_600_000,
          config: {
            chunkMaxRawBytes: settings.chunkMaxRawBytes,
            timeReserveMs: settings.timeReserveMs,
            pageLimit: pageLimit ?? settings.pageLimit,
          },
        },
      );
      if (!out.done) throw new Error('segment worker stopped before the end of the table');
      items = out.items;
    }
    const seconds = (performance.now() - t0) / 1000;
    // Read the peak before anything else allocates (the part report read below is tiny anyway).
    const maxRssKb = process.resourceUsage().maxRSS;
    const sampledPeakKb = stopSampling();

    let report: PartReport | undefined;
    if (mode === 'worker')
      report = partReport.parse(JSON.parse((await store.get(partReportKey(prefix, table, 0, 0))).toString()));
    const sum = (field: 'rawBytes' | 'storedBytes') =>
      (report?.chunks ?? []).reduce((total, chunk) => total + chunk[field], 0);
    const result: SegmentWorkerResult = {
      mode,
      maxRssKb,
      seconds,
      items,
      rawBytes: sum('rawBytes'),
      storedBytes: sum('storedBytes'),
      chunks: report?.chunks.length ?? 0,
      sampledPeakKb,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
