import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { ChunkWriter, type WrittenChunk } from '../adapters/chunk-writer';
import type { ObjectStore } from '../adapters/object-store';
import { fromSdkItem, type Item, itemFromJson, itemToJson, type JsonItem } from '../core/dynamo-json';
import { parseEvent } from '../core/events';
import { exportLines } from '../core/export-line';
import { chunkKey, partReportKey } from '../core/keys';
import type { PartReport } from '../core/manifest';
import { type ScanSegmentInput, type ScanSegmentOutput, scanSegmentInput } from './schema';

export interface ScanSegmentDeps {
  dynamodb: DynamoDBClient;
  store: ObjectStore;
  /** Milliseconds left in this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs: () => number;
  config: {
    chunkMaxRawBytes: number;
    /** Stop and return LastEvaluatedKey when less than this is left. */
    timeReserveMs: number;
    pageLimit?: number;
  };
}

/**
 * Scan one segment of one table into gzip NDJSON chunks (`{"Item":{…}}` per line), rolling to a
 * new chunk at the size bound. When the invocation runs short of time it closes the current
 * chunk and returns LastEvaluatedKey; the state machine's Choice loop calls it again.
 *
 * Reads are strongly consistent: every write acknowledged before a page is read is in it, which
 * the snapshot + log replay argument (docs/design.md §3.2) needs.
 *
 * Pages are read one ahead: while one page is serialized, compressed and uploaded, the Scan for
 * the next is in flight (at most one page more in memory). The returned LastEvaluatedKey is
 * always the one after the last page written.
 *
 * A retried invocation (same input) rewrites the same keys and the same part report, so retries
 * are harmless; chunks a failed attempt wrote beyond that are not in any report and finalize
 * removes them.
 */
export async function run(event: unknown, deps: ScanSegmentDeps): Promise<ScanSegmentOutput> {
  const input = parseEvent(scanSegmentInput, event, 'scan-segment event');
  const firstPart = input.nextPart;
  const chunks: WrittenChunk[] = [];
  let part = input.nextPart;
  let writer: ChunkWriter | undefined;
  /** The key after the last page written: where a continuation starts. */
  let startKey: Item | undefined = input.exclusiveStartKey
    ? itemFromJson(input.exclusiveStartKey as JsonItem)
    : undefined;
  let items = 0;
  let done = false;
  let pageBytes = 0;
  const timeLeft = () => deps.remainingMs() > deps.config.timeReserveMs;

  // One page ahead: the next page is read while this one is serialized, compressed and
  // uploaded. A page is only ever prefetched, never written ahead, so `startKey` stays the key
  // after the last written page; a prefetched page is dropped on a time stop and read again by
  // the continuation.
  let next: PageRequest | undefined = requestPage(deps, input, startKey);
  try {
    while (next) {
      const page = await next.page;
      next = undefined;
      const pageKey = page.LastEvaluatedKey ? fromSdkItem(page.LastEvaluatedKey) : undefined;
      // No prefetch when time is already short: the check after this page would stop anyway.
      if (pageKey && timeLeft()) next = requestPage(deps, input, pageKey);

      const pageItems = (page.Items ?? []) as Item[]; // fromSdkItem's narrowing, for a page
      if (pageItems.length > 0) {
        writer ??= new ChunkWriter(
          deps.store,
          chunkKey(input.snapshotPrefix, input.table, input.segment, part),
        );
        const lines = exportLines(pageItems, pageBytes + (pageBytes >> 3));
        pageBytes = lines.length;
        await writer.write(lines, pageItems.length);
        items += pageItems.length;
        if (writer.rawSize >= deps.config.chunkMaxRawBytes) {
          chunks.push(await writer.close());
          writer = undefined;
          part += 1;
        }
      }
      startKey = pageKey;
      done = startKey === undefined;
      if (done || !timeLeft()) break;
      next ??= requestPage(deps, input, startKey);
    }

    if (writer) {
      chunks.push(await writer.close());
      writer = undefined;
      part += 1;
    }
  } catch (error) {
    // A failed page leaves a half-written upload: abort it so no partial object appears.
    writer?.abort(error as Error);
    throw error;
  } finally {
    // A time stop (or a failure) with a page prefetched: drop it; the continuation reads it again.
    next?.cancel();
  }

  const report: PartReport = {
    table: input.table,
    segment: input.segment,
    firstPart,
    done,
    chunks: chunks.map((chunk, i) => ({ ...chunk, segment: input.segment, part: firstPart + i })),
  };
  await deps.store.put(
    partReportKey(input.snapshotPrefix, input.table, input.segment, firstPart),
    JSON.stringify(report),
    'application/json',
  );

  return {
    ...input,
    nextPart: part,
    exclusiveStartKey: startKey
      ? (itemToJson(startKey) as Record<string, Record<string, unknown>>)
      : undefined,
    items: input.items + items,
    invocations: input.invocations + 1,
    done,
  };
}

/** One Scan request of the segment, in flight. */
interface PageRequest {
  page: Promise<ScanCommandOutput>;
  /** Abort the request if it is still running; its page is not wanted. */
  cancel(): void;
}

function requestPage(
  deps: ScanSegmentDeps,
  input: ScanSegmentInput,
  startKey: Item | undefined,
): PageRequest {
  const abort = new AbortController();
  const page = deps.dynamodb.send(
    new ScanCommand({
      TableName: input.table,
      Segment: input.segment,
      TotalSegments: input.totalSegments,
      ExclusiveStartKey: startKey as never,
      ConsistentRead: true,
      Limit: deps.config.pageLimit,
    }),
    { abortSignal: abort.signal },
  );
  // A prefetched page can fail while the one before it is being written, or be dropped unread:
  // handled here so that is never an unhandled rejection; awaiting `page` still throws.
  page.catch(() => undefined);
  return { page, cancel: () => abort.abort() };
}
