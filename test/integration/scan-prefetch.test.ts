import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { paginateScan } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { compareItemSets, tableItems } from '../../demo/snapshot-check';
import type { DemoTableKind } from '../../demo/workload';
import {
  canonicalItem,
  exportLine,
  fromSdkItem,
  type Item,
  itemToJson,
  parseExportLine,
} from '../../functions/core/dynamo-json';
import { fastExportLineOrUndefined } from '../../functions/core/export-line';
import { partReportPrefix } from '../../functions/core/keys';
import { partReport } from '../../functions/core/manifest';
import { run } from '../../functions/scan-segment/run';
import type { ScanSegmentOutput } from '../../functions/scan-segment/schema';
import { dynamoClient } from '../../local/clients';
import { demoTable as demoTableIn, localClients, uniqueName } from '../support/cloud';

const cfg = inject('localConfig');
const { dynamodb, store } = localClients(cfg);

const demoTable = (kind: DemoTableKind, items: number) =>
  demoTableIn(dynamodb, kind, items, `prefetch-${kind}`);

/** Scan requests as DynamoDB Local answered them, in the order they were sent. */
interface ScanCall {
  startKey: Item | undefined;
  lastKey?: Item;
  items?: number;
}

describe('scan-segment prefetch on DynamoDB Local', () => {
  let orders: string;
  let blobs: string;

  beforeAll(async () => {
    [orders, blobs] = await Promise.all([demoTable('orders', 600), demoTable('blobs', 300)]);
  });

  it('returns the key after the last written page on every time stop; the resumed segment holds every item once', async () => {
    // Prepare: a client that records each Scan, and a clock that runs out as soon as an
    // invocation sends its second Scan (the prefetch), i.e. while its first page is written.
    const client = dynamoClient(cfg);
    const calls: ScanCall[] = [];
    let scansThisInvocation = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ScanCommand') return next(args);
        const input = args.input as { ExclusiveStartKey?: Item };
        const call: ScanCall = { startKey: input.ExclusiveStartKey };
        calls.push(call);
        scansThisInvocation++;
        const result = await next(args);
        const output = result.output as { LastEvaluatedKey?: Item; Items?: unknown[] };
        call.lastKey = output.LastEvaluatedKey;
        call.items = output.Items?.length;
        return result;
      },
      { step: 'initialize', name: 'recordScans' },
    );
    const snapshotPrefix = `v1/prefetch/snapshots/${uniqueName('s')}/`;
    const event = {
      cluster: 'prefetch',
      backupId: 'b',
      snapshotPrefix,
      table: orders,
      segment: 0,
      totalSegments: 1,
    };
    const deps = {
      dynamodb: client,
      store,
      remainingMs: () => (scansThisInvocation >= 2 ? 0 : 60_000),
      config: { chunkMaxRawBytes: 64 * 1024 * 1024, timeReserveMs: 1_000, pageLimit: 100 },
    };

    // Act: invoke as the state machine does until the segment is done
    const outputs: { out: ScanSegmentOutput; calls: ScanCall[] }[] = [];
    let out: ScanSegmentOutput | undefined;
    try {
      do {
        scansThisInvocation = 0;
        const before = calls.length;
        out = await run(out ?? event, deps);
        outputs.push({ out, calls: calls.slice(before) });
      } while (!out.done && outputs.length < 20);
    } finally {
      client.destroy();
    }

    // Assess: each cut-short invocation wrote one page, had the next one requested, and
    // returned the written page's LastEvaluatedKey, which the next invocation starts from
    expect(out.done).toBe(true);
    const cut = outputs.filter((o) => !o.out.done);
    for (const [i, { out: o, calls: own }] of cut.entries()) {
      const [written, prefetched] = own;
      expect(own).toHaveLength(2);
      expect(o.items - (i === 0 ? 0 : (cut[i - 1]?.out.items ?? 0))).toBe(written?.items);
      expect(written?.lastKey).toBeDefined();
      expect(prefetched?.startKey).toEqual(written?.lastKey);
      expect(o.exclusiveStartKey).toEqual(itemToJson(written?.lastKey as Item));
      expect(outputs[i + 1]?.calls[0]?.startKey).toEqual(written?.lastKey);
    }
    expect(cut.length).toBeGreaterThanOrEqual(5);
    expect(out.items).toBe(600);

    // Assess: the chunks the part reports list hold exactly the table, checksums matching
    const written: string[] = [];
    for await (const { key } of store.list(partReportPrefix(snapshotPrefix))) {
      const report = partReport.parse(JSON.parse((await store.get(key)).toString('utf8')));
      for (const chunk of report.chunks) {
        const stored = await store.get(chunk.key);
        expect(createHash('sha256').update(stored).digest('hex')).toBe(chunk.sha256);
        for (const line of gunzipSync(stored).toString('utf8').split('\n').filter(Boolean))
          written.push(canonicalItem(parseExportLine(line)));
      }
    }
    expect(compareItemSets(await tableItems(dynamodb, orders), written)).toMatchObject({
      expected: 600,
      actual: 600,
      missing: 0,
      unexpected: 0,
      duplicates: 0,
    });
  });

  it("writes the SDK's Scan items on the fast export path, byte for byte as exportLine", async () => {
    for (const table of [orders, blobs]) {
      let items = 0;
      for await (const page of paginateScan(
        { client: dynamodb },
        { TableName: table, ConsistentRead: true },
      )) {
        for (const sdkItem of page.Items ?? []) {
          const item = fromSdkItem(sdkItem);
          expect(fastExportLineOrUndefined(item)).toBe(exportLine(item));
          items++;
        }
      }
      expect(items).toBeGreaterThan(0);
    }
  });
});
