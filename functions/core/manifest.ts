import { z } from 'zod';

/**
 * `manifest.json`: the completion marker of a snapshot, written after all its data
 * (docs/design.md §3.6). Restore trusts nothing the manifest does not list and checks every SHA-256.
 */
export const MANIFEST_FORMAT = 'rewind.snapshot/1';

const keySchemaElement = z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) });
const attributeDefinition = z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) });
const projection = z.object({
  ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
  NonKeyAttributes: z.array(z.string()).optional(),
});
const throughput = z.object({ ReadCapacityUnits: z.number(), WriteCapacityUnits: z.number() });

export const tableSchema = z.object({
  tableName: z.string(),
  keySchema: z.array(keySchemaElement).min(1),
  attributeDefinitions: z.array(attributeDefinition),
  billingMode: z.enum(['PROVISIONED', 'PAY_PER_REQUEST']),
  provisionedThroughput: throughput.optional(),
  globalSecondaryIndexes: z
    .array(
      z.object({
        indexName: z.string(),
        keySchema: z.array(keySchemaElement),
        projection,
        provisionedThroughput: throughput.optional(),
      }),
    )
    .default([]),
  localSecondaryIndexes: z
    .array(z.object({ indexName: z.string(), keySchema: z.array(keySchemaElement), projection }))
    .default([]),
  ttl: z.object({ enabled: z.boolean(), attributeName: z.string().optional() }),
  tableClass: z.string().optional(),
});
export type TableSchema = z.infer<typeof tableSchema>;

export const chunkDescriptor = z.object({
  key: z.string(),
  segment: z.number().int().nonnegative(),
  part: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
  rawBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChunkDescriptor = z.infer<typeof chunkDescriptor>;

/** What one scan-segment invocation wrote; finalize gathers these into the manifest. */
export const partReport = z.object({
  table: z.string(),
  segment: z.number().int().nonnegative(),
  firstPart: z.number().int().nonnegative(),
  /** true on the report of the invocation that reached the end of the segment. */
  done: z.boolean(),
  chunks: z.array(chunkDescriptor),
});
export type PartReport = z.infer<typeof partReport>;

export const manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  cluster: z.string(),
  backupId: z.string(),
  kind: z.enum(['auto', 'manual']),
  name: z.string().optional(),
  startTs: z.string(),
  endTs: z.string(),
  restorableFrom: z.string(),
  skewMarginMicros: z.number().int().nonnegative(),
  tables: z.array(
    z.object({
      schema: tableSchema,
      segments: z.number().int().positive(),
      items: z.number().int().nonnegative(),
      rawBytes: z.number().int().nonnegative(),
      storedBytes: z.number().int().nonnegative(),
      chunks: z.array(chunkDescriptor),
    }),
  ),
  items: z.number().int().nonnegative(),
  rawBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
});
export type Manifest = z.infer<typeof manifest>;

/**
 * Gather part reports into per-table chunk lists. Reports of one segment are ordered by part;
 * a chunk listed twice (a retried invocation rewrote a report) counts once.
 */
export function gatherChunks(reports: PartReport[]): Map<string, ChunkDescriptor[]> {
  const byTable = new Map<string, Map<string, ChunkDescriptor>>();
  for (const report of reports) {
    const chunks = byTable.get(report.table) ?? new Map<string, ChunkDescriptor>();
    for (const chunk of report.chunks) chunks.set(chunk.key, chunk);
    byTable.set(report.table, chunks);
  }
  const result = new Map<string, ChunkDescriptor[]>();
  for (const [table, chunks] of byTable) {
    result.set(
      table,
      [...chunks.values()].sort((a, b) => a.segment - b.segment || a.part - b.part),
    );
  }
  return result;
}
