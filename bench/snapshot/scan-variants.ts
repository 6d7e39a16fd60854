import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { ObjectStore } from '../../functions/adapters/object-store';
import { fromSdkItem } from '../../functions/core/dynamo-json';
import { exportLines } from '../../functions/core/export-line';
import { partReportKey } from '../../functions/core/keys';
import { partReport } from '../../functions/core/manifest';
import { run as scanSegment } from '../../functions/scan-segment/run';
import { pool } from '../support';
import { CLUSTER, type Context, type Measurement, measure } from './context';

// Variants A–D. A–C reproduce the worker's loop step by step (same Scan parameters, same segment
// count and concurrency, same client settings, the same export-line encoder), but read each page
// only after the previous one is processed, where the worker reads one page ahead; D is the real
// worker. E (the pipeline) is in pipeline.ts.

/** A parallel Scan of `table` as the worker runs it, handing each page to `onPage`; returns the item count. */
async function scanPages(
  ctx: Context,
  table: string,
  onPage: (segment: number, items: Record<string, unknown>[]) => Promise<void> | void,
): Promise<number> {
  let items = 0;
  await pool(ctx.segments, ctx.concurrency, async (segment) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await ctx.scanClient.send(
        new ScanCommand({
          TableName: table,
          Segment: segment,
          TotalSegments: ctx.segments,
          ExclusiveStartKey: startKey as never,
          ConsistentRead: true,
          Limit: ctx.settings.pageLimit,
        }),
      );
      const pageItems = page.Items ?? [];
      items += pageItems.length;
      await onPage(segment, pageItems);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  });
  return items;
}

export const baseline = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'baseline', round, async () => ({ items: await scanPages(ctx, table, () => undefined) }));

export const serialize = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'serialize', round, async () => {
    let rawBytes = 0;
    const items = await scanPages(ctx, table, (_segment, pageItems) => {
      rawBytes += exportLines(pageItems.map(fromSdkItem)).length;
    });
    return { items, rawBytes };
  });

/** Like ChunkWriter without the upload: gzip level 1 → SHA-256 + byte count → discarded. */
export const gzipOnly = (ctx: Context, table: string, round: number) =>
  measure(ctx, 'gzip', round, async () => {
    let rawBytes = 0;
    let storedBytes = 0;
    const streams = Array.from({ length: ctx.segments }, () => {
      const gzip = createGzip({ level: 1 });
      const hash = createHash('sha256');
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          storedBytes += chunk.length;
          callback();
        },
      });
      gzip.pipe(sink);
      return { gzip, sink, hash };
    });
    const items = await scanPages(ctx, table, async (segment, pageItems) => {
      const stream = streams[segment];
      if (!stream || pageItems.length === 0) return;
      const lines = exportLines(pageItems.map(fromSdkItem));
      rawBytes += lines.length;
      if (!stream.gzip.write(lines)) await once(stream.gzip, 'drain');
    });
    await Promise.all(
      streams.map(async ({ gzip, sink, hash }) => {
        gzip.end();
        await once(sink, 'finish');
        hash.digest('hex');
      }),
    );
    return { items, rawBytes, storedBytes };
  });

/** The store the scan phase hands the worker: the real one, plus timing of each upload's tail. */
function timedStore(store: ObjectStore, tails: number[]): ObjectStore {
  return {
    put: (key, body, contentType) => store.put(key, body, contentType),
    upload: async (key, body: Readable, contentType) => {
      let ended: number | undefined;
      body.once('end', () => {
        ended = performance.now();
      });
      await store.upload(key, body, contentType);
      tails.push((performance.now() - (ended ?? performance.now())) / 1000);
    },
    get: (key) => store.get(key),
    getStream: (key) => store.getStream(key),
    exists: (key) => store.exists(key),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
  };
}

export async function scanPhase(ctx: Context, table: string, round: number): Promise<Measurement> {
  const backupId = `scan-phase-${ctx.tag()}`;
  const prefix = `v1/${CLUSTER}/snapshots/${backupId}/`;
  const tails: number[] = [];
  const store = timedStore(ctx.store, tails);
  const m = await measure(ctx, 'scanPhase', round, async () => {
    const deadline = Date.now() + ctx.settings.segmentTimeLimitMs;
    const outputs = await pool(ctx.segments, ctx.concurrency, (segment) =>
      scanSegment(
        { cluster: CLUSTER, backupId, snapshotPrefix: prefix, table, segment, totalSegments: ctx.segments },
        {
          dynamodb: ctx.scanClient,
          store,
          remainingMs: () => deadline - Date.now(),
          config: {
            chunkMaxRawBytes: ctx.settings.chunkMaxRawBytes,
            timeReserveMs: ctx.settings.timeReserveMs,
            pageLimit: ctx.settings.pageLimit,
          },
        },
      ),
    );
    if (outputs.some((o) => !o.done)) throw new Error('scan phase: a segment did not finish');
    return { items: outputs.reduce((n, o) => n + o.items, 0), uploadTailSeconds: tails, backupId };
  });
  // Bytes from the part reports the worker wrote (outside the timed section).
  let rawBytes = 0;
  let storedBytes = 0;
  for (let segment = 0; segment < ctx.segments; segment++) {
    const report = partReport.parse(
      JSON.parse((await ctx.store.get(partReportKey(prefix, table, segment, 0))).toString('utf8')),
    );
    for (const chunk of report.chunks) {
      rawBytes += chunk.rawBytes;
      storedBytes += chunk.storedBytes;
    }
  }
  return { ...m, rawBytes, storedBytes };
}
