import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { demoItem } from '../../demo/workload';
import { nowMicros } from '../../functions/adapters/clock';
import { gzipLines, readVerified } from '../../functions/adapters/restore-objects';
import { DynamoTargetTables } from '../../functions/adapters/restore-tables';
import { type Item, itemToJson } from '../../functions/core/dynamo-json';
import { logKey } from '../../functions/core/keys';
import { LOG_SCHEMA_VERSION, type LogObjectRecord } from '../../functions/core/log-model';
import type { Micros } from '../../functions/core/time';
import { run as createTables } from '../../functions/restore-create-tables/run';
import { run as restoreReplay } from '../../functions/restore-replay/run';
import { pool, timed } from '../support';
import { CLUSTER, createRunningJob, type RestoreBenchContext, SOURCE } from './context';

/**
 * Replay: the real restore-replay worker over a synthetic change log, against decode-only of the
 * same objects with as many workers; once with the winners discarded, once written.
 */

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** RECORDS changes over KEYS keys (20% removes), 1,000 per object, within the snapshot's log window. */
export async function writeLog(
  ctx: RestoreBenchContext,
  records: number,
  keys: number,
): Promise<{ objects: LogObjectRecord[]; logTo: Micros }> {
  const t0 = ctx.backup.restorableFrom ?? 0;
  const objects: LogObjectRecord[] = [];
  for (let first = 0; first < records; first += 1_000) {
    let text = '';
    const n = Math.min(1_000, records - first);
    for (let j = 0; j < n; j++) {
      const i = first + j;
      const base = demoItem('orders', (i * 7919) % keys);
      const key = { pk: base.pk, sk: base.sk } as Item;
      const remove = i % 5 === 4;
      text += `${JSON.stringify({ table: SOURCE, op: remove ? 'REMOVE' : 'MODIFY', keys: itemToJson(key), newImage: remove ? undefined : itemToJson({ ...base, rev: { N: String(i) } }), ts: t0 + i, eventId: `e${i}`, shardId: 'shardId-000000000000', sequenceNumber: String(100_000 + i) })}\n`;
    }
    const body = gzipSync(text, { level: 1 });
    const record: LogObjectRecord = {
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: CLUSTER,
      key: logKey(CLUSTER, SOURCE, t0 + first, 'shardId-000000000000', String(100_000 + first)),
      table: SOURCE,
      shardId: 'shardId-000000000000',
      firstSequenceNumber: String(100_000 + first),
      lastSequenceNumber: String(100_000 + first + n - 1),
      minTs: t0 + first,
      maxTs: t0 + first + n - 1,
      records: n,
      rawBytes: Buffer.byteLength(text),
      bytes: body.length,
      sha256: sha256(body),
      writtenAt: nowMicros(),
    };
    await ctx.store.put(record.key, body, 'application/gzip');
    await ctx.logCatalog.putLogObject(record);
    objects.push(record);
  }
  return { objects, logTo: t0 + records };
}

export async function benchReplay(
  ctx: RestoreBenchContext,
  objects: LogObjectRecord[],
  logTo: Micros,
  partitions: number,
) {
  const records = objects.reduce((s, o) => s + o.records, 0);
  const workers = Math.min(partitions, ctx.map);
  const decode = await timed(() =>
    pool(objects.length, workers, async (i) => {
      const o = objects[i] as LogObjectRecord;
      const body = await readVerified(ctx.store, o.key, { sha256: o.sha256, bytes: o.bytes });
      let n = 0;
      for await (const line of gzipLines(body)) if (JSON.parse(line)) n++;
      return n;
    }),
  );
  const run = async (tables: DynamoTargetTables, label: string) => {
    const restoreId = `replay-${label}-${partitions}-${Date.now()}`;
    await createRunningJob(ctx, restoreId, `rr-${label}-${partitions}-${Date.now()}`, logTo);
    const ref = { cluster: CLUSTER, restoreId };
    await createTables(ref, {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      now: nowMicros,
      config: { maxConcurrency: ctx.map, waitSeconds: 1 },
    });
    const deps = {
      restoreCatalog: ctx.restores,
      logCatalog: ctx.logCatalog,
      store: ctx.store,
      tables,
      config: { writeConcurrency: ctx.writers },
    };
    const replay = await timed(() =>
      pool(partitions, workers, (partition) =>
        restoreReplay({ ...ref, table: SOURCE, partition, partitions }, deps),
      ),
    );
    const kept = replay.value.reduce((s, r) => s + r.kept, 0);
    if (kept !== records) throw new Error(`replay kept ${kept} of ${records} records`);
    return { seconds: replay.seconds, writes: replay.value.reduce((s, r) => s + r.puts + r.deletes, 0) };
  };
  // The replay pipeline without the table (winners discarded), then the real one.
  const compute = await run(new NullTables(ctx.ddb), 'compute');
  const full = await run(ctx.tables, 'full');
  return {
    partitions,
    workers,
    records,
    writes: full.writes,
    decode: records / decode.seconds,
    compute: records / compute.seconds,
    replay: records / full.seconds,
    /** Winners written per second while applying (full − compute time). */
    applyWrites: full.writes / Math.max(1e-9, full.seconds - compute.seconds),
    decodeSeconds: decode.seconds,
    computeSeconds: compute.seconds,
    replaySeconds: full.seconds,
  };
}

/** Target tables whose writer discards: the replay's cost without DynamoDB's. */
class NullTables extends DynamoTargetTables {
  override writer() {
    const stats = { puts: 0, deletes: 0, requests: 0, retries: 0 };
    return {
      put: async () => {
        stats.puts++;
      },
      delete: async () => {
        stats.deletes++;
      },
      flush: async () => ({ ...stats }),
    };
  }
}
