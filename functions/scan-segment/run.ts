import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ChunkWriter, type WrittenChunk } from '../adapters/chunk-writer';
import type { ObjectStore } from '../adapters/object-store';
import {
  exportLine,
  fromSdkItem,
  type Item,
  itemFromJson,
  itemToJson,
  type JsonItem,
} from '../core/dynamo-json';
import { parseEvent } from '../core/events';
import { chunkKey, partReportKey } from '../core/keys';
import type { PartReport } from '../core/manifest';
import { type ScanSegmentOutput, scanSegmentInput } from './schema';

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
 * the snapshot + log replay argument (DESIGN.md §3.2) needs.
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
  let startKey: Item | undefined = input.exclusiveStartKey
    ? itemFromJson(input.exclusiveStartKey as JsonItem)
    : undefined;
  let items = 0;
  let done = false;

  try {
    do {
      const page = await deps.dynamodb.send(
        new ScanCommand({
          TableName: input.table,
          Segment: input.segment,
          TotalSegments: input.totalSegments,
          ExclusiveStartKey: startKey as never,
          ConsistentRead: true,
          Limit: deps.config.pageLimit,
        }),
      );
      const pageItems = page.Items ?? [];
      if (pageItems.length > 0) {
        writer ??= new ChunkWriter(
          deps.store,
          chunkKey(input.snapshotPrefix, input.table, input.segment, part),
        );
        let text = '';
        for (const item of pageItems) text += exportLine(fromSdkItem(item));
        await writer.write(text, pageItems.length);
        items += pageItems.length;
        if (writer.rawSize >= deps.config.chunkMaxRawBytes) {
          chunks.push(await writer.close());
          writer = undefined;
          part += 1;
        }
      }
      startKey = page.LastEvaluatedKey ? fromSdkItem(page.LastEvaluatedKey) : undefined;
      done = startKey === undefined;
    } while (!done && deps.remainingMs() > deps.config.timeReserveMs);

    if (writer) {
      chunks.push(await writer.close());
      writer = undefined;
      part += 1;
    }
  } catch (error) {
    // A failed page leaves a half-written upload: abort it so no partial object appears.
    writer?.abort(error as Error);
    throw error;
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
