import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import type { ObjectStore } from '../functions/adapters/object-store';
import { canonicalItem, fromSdkItem, parseExportLine } from '../functions/core/dynamo-json';
import { ChecksumMismatchError } from '../functions/core/errors';
import { type Manifest, manifest as manifestSchema } from '../functions/core/manifest';

/**
 * Independent checks of a snapshot against its source, used by the demo, the benchmarks and
 * the integration tests: every checksum equals the object's bytes, and the chunks hold each
 * source item exactly once.
 */
export async function readManifest(store: ObjectStore, key: string): Promise<Manifest> {
  return manifestSchema.parse(JSON.parse((await store.get(key)).toString('utf8')));
}

/** Canonical items of one table's chunks, checking each chunk's SHA-256 and size. */
export async function snapshotItems(
  store: ObjectStore,
  manifest: Manifest,
  table: string,
): Promise<string[]> {
  const entry = manifest.tables.find((t) => t.schema.tableName === table);
  if (!entry) throw new Error(`manifest has no table ${table}`);
  const items: string[] = [];
  for (const chunk of entry.chunks) {
    const bytes = await store.get(chunk.key);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== chunk.sha256) throw new ChecksumMismatchError(chunk.key, chunk.sha256, actual);
    if (bytes.length !== chunk.storedBytes)
      throw new Error(`${chunk.key}: ${bytes.length} bytes, manifest says ${chunk.storedBytes}`);
    const lines = createInterface({
      input: Readable.from([bytes]).pipe(createGunzip()),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let count = 0;
    for await (const line of lines) {
      if (line.length === 0) continue;
      items.push(canonicalItem(parseExportLine(line)));
      count++;
    }
    if (count !== chunk.items) throw new Error(`${chunk.key}: ${count} items, manifest says ${chunk.items}`);
  }
  return items;
}

/** Canonical items of a live table (parallel scan, strongly consistent). */
export async function tableItems(client: DynamoDBClient, table: string, segments = 4): Promise<string[]> {
  const parts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const items: string[] = [];
      const pages = paginateScan(
        { client },
        { TableName: table, Segment: segment, TotalSegments: segments, ConsistentRead: true },
      );
      for await (const page of pages)
        for (const item of page.Items ?? []) items.push(canonicalItem(fromSdkItem(item)));
      return items;
    }),
  );
  return parts.flat();
}

export interface SetComparison {
  expected: number;
  actual: number;
  missing: number;
  unexpected: number;
  duplicates: number;
}

/** Compare two item lists as sets, counting duplicates on the `actual` side. */
export function compareItemSets(expected: string[], actual: string[]): SetComparison {
  const counts = new Map<string, number>();
  for (const item of actual) counts.set(item, (counts.get(item) ?? 0) + 1);
  const expectedSet = new Set(expected);
  let missing = 0;
  for (const item of expectedSet) if (!counts.has(item)) missing++;
  let unexpected = 0;
  let duplicates = 0;
  for (const [item, n] of counts) {
    if (!expectedSet.has(item)) unexpected++;
    duplicates += n - 1;
  }
  return { expected: expected.length, actual: actual.length, missing, unexpected, duplicates };
}

export const setsMatch = (c: SetComparison) => c.missing === 0 && c.unexpected === 0 && c.duplicates === 0;
