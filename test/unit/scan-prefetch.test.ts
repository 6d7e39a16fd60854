import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { DynamoDBClient, ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { type Item, itemToJson, parseExportLine } from '../../functions/core/dynamo-json';
import { partReportPrefix } from '../../functions/core/keys';
import { type PartReport, partReport } from '../../functions/core/manifest';
import { run, type ScanSegmentDeps } from '../../functions/scan-segment/run';
import { MemoryObjectStore } from '../support/restore-fakes';

/**
 * scan-segment reads one Scan page ahead of the page it writes. A time-limit stop must still
 * return the LastEvaluatedKey of the last page WRITTEN: the prefetched page is dropped and the
 * continuation reads it again, so no item is lost or written twice.
 */

const idOf = (item: Item) => (item.id as { S: string }).S;

interface ScanCall {
  startKey: Item | undefined;
  signal: AbortSignal | undefined;
}

/**
 * A table of `count` items keyed `id` = item-000…, scanned in key order in pages of `Limit`
 * items; like DynamoDB, a full page carries a LastEvaluatedKey even when nothing follows.
 * `onScan(n)` runs as the n-th Scan (from 1) is sent and may replace its answer.
 */
function fakeTable(
  count: number,
  onScan: (n: number) => Promise<ScanCommandOutput> | undefined = () => undefined,
) {
  const items: Item[] = Array.from({ length: count }, (_, i) => ({
    id: { S: `item-${String(i).padStart(3, '0')}` },
    n: { N: String(i) },
    b: { B: new Uint8Array([i & 255, 7]) },
  }));
  const calls: ScanCall[] = [];
  const send = (command: ScanCommand, options?: { abortSignal?: AbortSignal }) => {
    const input = command.input;
    const startKey = input.ExclusiveStartKey as Item | undefined;
    calls.push({ startKey, signal: options?.abortSignal });
    const replaced = onScan(calls.length);
    if (replaced) return replaced;
    const after = startKey ? items.findIndex((item) => idOf(item) === idOf(startKey)) + 1 : 0;
    const limit = input.Limit ?? 1_000;
    const page = items.slice(after, after + limit);
    const last = page.at(-1);
    return Promise.resolve({
      Items: page,
      LastEvaluatedKey: page.length === limit && last ? { id: last.id } : undefined,
      $metadata: {},
    } as ScanCommandOutput);
  };
  return { items, calls, client: { send } as unknown as DynamoDBClient };
}

const event = {
  cluster: 'c',
  backupId: 'b',
  snapshotPrefix: 'v1/c/snapshots/20260101T000000.000000Z-b/',
  table: 't',
  segment: 0,
  totalSegments: 1,
};

function deps(client: DynamoDBClient, store: MemoryObjectStore, remainingMs: () => number): ScanSegmentDeps {
  return {
    dynamodb: client,
    store,
    remainingMs,
    config: { chunkMaxRawBytes: 64 * 1024 * 1024, timeReserveMs: 1_000, pageLimit: 100 },
  };
}

/** Every item id in the chunks the part reports list, checking each chunk's SHA-256 and count. */
async function writtenIds(store: MemoryObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const { key } of store.list(partReportPrefix(event.snapshotPrefix))) {
    const report: PartReport = partReport.parse(JSON.parse((await store.get(key)).toString('utf8')));
    for (const chunk of report.chunks) {
      const stored = await store.get(chunk.key);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(chunk.sha256);
      const lines = gunzipSync(stored).toString('utf8').split('\n').filter(Boolean);
      expect(lines).toHaveLength(chunk.items);
      for (const line of lines) ids.push(idOf(parseExportLine(line)));
    }
  }
  return ids;
}

describe('scan-segment reads one page ahead', () => {
  it('stops after the last written page, not the prefetched one, and resumes with nothing lost or doubled', async () => {
    // Prepare: 250 items in pages of 100. The clock runs out as soon as the second page is
    // requested, i.e. while the first is being written; that second page (the prefetch) is
    // already fetched when the worker decides to stop.
    let expired = false;
    const table = fakeTable(250, (n) => {
      if (n === 2) expired = true;
      return undefined;
    });
    const store = new MemoryObjectStore();
    const clock = () => (expired ? 0 : 60_000);

    // Act: the invocation that is cut short
    const first = await run(event, deps(table.client, store, clock));

    // Assess: one page written, a second requested (the prefetch) and dropped
    const firstPageKey = { id: { S: 'item-099' } };
    expect(first.done).toBe(false);
    expect(first.items).toBe(100);
    expect(table.calls).toHaveLength(2);
    expect(table.calls[1]?.startKey).toEqual(firstPageKey);
    expect(table.calls[1]?.signal?.aborted).toBe(true);
    expect(first.exclusiveStartKey).toEqual(itemToJson(firstPageKey));
    expect(await writtenIds(store)).toEqual(table.items.slice(0, 100).map(idOf));

    // Act: the state machine's next invocation, with time to spare
    expired = false;
    const second = await run(
      first,
      deps(table.client, store, () => 60_000),
    );

    // Assess: the dropped page is read again; every item written exactly once, in order
    expect(table.calls[2]?.startKey).toEqual(firstPageKey);
    expect(second.done).toBe(true);
    expect(second.items).toBe(250);
    expect(second.invocations).toBe(2);
    expect(await writtenIds(store)).toEqual(table.items.map(idOf));
  });

  it('fails the invocation, leaving no chunk, when the prefetched page fails while one is written', async () => {
    // Prepare: the prefetch of page 2 is refused, already as page 1 is being written.
    const table = fakeTable(250, (n) =>
      n === 2 ? Promise.reject(new Error('ProvisionedThroughputExceeded')) : undefined,
    );
    const store = new MemoryObjectStore();

    // Act / Assess
    await expect(
      run(
        event,
        deps(table.client, store, () => 60_000),
      ),
    ).rejects.toThrow('ProvisionedThroughputExceeded');
    expect(table.calls).toHaveLength(2);
    expect([...store.objects.keys()]).toEqual([]);
  });

  it('does not prefetch when time is already short as a page arrives', async () => {
    // Prepare
    const table = fakeTable(250);
    const store = new MemoryObjectStore();

    // Act
    const out = await run(
      event,
      deps(table.client, store, () => 0),
    );

    // Assess: the first page is always written (progress), and no second page is read
    expect(out.items).toBe(100);
    expect(out.done).toBe(false);
    expect(table.calls).toHaveLength(1);
    expect(out.exclusiveStartKey).toEqual(itemToJson({ id: { S: 'item-099' } }));
  });
});
