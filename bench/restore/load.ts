import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { readManifest } from '../../demo/snapshot-check';
import { createDemoTable } from '../../demo/workload';
import { nowMicros } from '../../functions/adapters/clock';
import { gzipLines, ManifestCache } from '../../functions/adapters/restore-objects';
import { type Item, parseExportLine } from '../../functions/core/dynamo-json';
import { run as createTables } from '../../functions/restore-create-tables/run';
import { run as restoreLoad } from '../../functions/restore-load/run';
import { fmt, log, median, pool, timed } from '../support';
import { CLUSTER, createRunningJob, type RestoreBenchContext } from './context';

/**
 * Load: the real restore-load worker per (table, segment) of the snapshot, MAP units at a time,
 * WRITERS requests each, against bare BatchWriteItem of the same items (parsed up front) with
 * MAP x WRITERS in flight; rounds alternate which runs first. Items per second of each.
 */
export async function benchLoad(ctx: RestoreBenchContext, items: number, rounds: number) {
  // Baseline: the snapshot's items, parsed up front, written bare at MAP x WRITERS in flight.
  const manifest = await readManifest(ctx.store, ctx.backup.manifestKey ?? '');
  const parsed: Item[] = [];
  for (const chunk of manifest.tables[0]?.chunks ?? []) {
    const body = await ctx.store.get(chunk.key);
    for await (const line of gzipLines(body)) parsed.push(parseExportLine(line));
  }
  if (parsed.length !== items) throw new Error(`snapshot holds ${parsed.length} items, expected ${items}`);
  const batches: Item[][] = [];
  for (let i = 0; i < parsed.length; i += 25) batches.push(parsed.slice(i, i + 25));
  const bareRound = async (round: number) => {
    const table = `base-${round}-${Date.now()}`;
    await createDemoTable(ctx.ddb, table, 'orders');
    const { seconds } = await timed(() =>
      pool(batches.length, ctx.map * ctx.writers, async (i) => {
        let pending = (batches[i] ?? []).map((item) => ({ PutRequest: { Item: item as never } }));
        while (pending.length > 0) {
          const out = await ctx.ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
          pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
        }
      }),
    );
    return seconds;
  };
  // Restore: the real load worker per (table, segment), MAP at a time, WRITERS requests each.
  let units = 0;
  const restoreRound = async (round: number) => {
    const restoreId = `load-${round}-${Date.now()}`;
    await createRunningJob(ctx, restoreId, `rl-${round}-${Date.now()}`, ctx.backup.restorableFrom ?? 0);
    const manifests = new ManifestCache();
    const ref = { cluster: CLUSTER, restoreId };
    const created = await createTables(ref, {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      now: nowMicros,
      manifests,
      config: { maxConcurrency: ctx.map, waitSeconds: 1 },
    });
    units = created.loadUnits.length;
    const deps = {
      restoreCatalog: ctx.restores,
      store: ctx.store,
      tables: ctx.tables,
      manifests,
      remainingMs: () => 900_000,
      config: { writeConcurrency: ctx.writers, timeReserveMs: 1_000 },
    };
    const { seconds, value } = await timed(() =>
      pool(created.loadUnits.length, ctx.map, async (i) => {
        let out = await restoreLoad({ ...ref, ...created.loadUnits[i] }, deps);
        while (!out.done) out = await restoreLoad(out, deps);
        return out.items;
      }),
    );
    const loaded = value.reduce((a, b) => a + b, 0);
    if (loaded !== items) throw new Error(`loaded ${loaded} items, expected ${items}`);
    return seconds;
  };
  const bare: number[] = [];
  const restore: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so neither always runs on a warmer (or busier) emulator.
    if (round % 2 === 0) {
      bare.push(await bareRound(round));
      restore.push(await restoreRound(round));
    } else {
      restore.push(await restoreRound(round));
      bare.push(await bareRound(round));
    }
    log(`  round ${round + 1}: bare ${fmt(bare[round] ?? 0)} s, restore-load ${fmt(restore[round] ?? 0)} s`);
  }
  return {
    bare: items / median(bare),
    restore: items / median(restore),
    bareSeconds: bare,
    restoreSeconds: restore,
    units,
    rounds,
  };
}
