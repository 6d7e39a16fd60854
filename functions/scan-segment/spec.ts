import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { S3ObjectStore } from '../adapters/s3-object-store';
import { positiveInt, storage } from '../env';
import { defineFunction } from '../spec';
import { run } from './run';

/** Snapshot state machine, Distributed Map item: one pass over one (table, segment). */
export const scanSegmentSpec = defineFunction({
  name: 'scan-segment',
  entry: 'functions/scan-segment/handler.ts',
  description: 'Rewind: scans one table segment into gzip NDJSON chunks in S3',
  substitution: 'ScanSegmentFunctionArn',
  memorySize: 1024,
  timeoutSeconds: 900,
  env: z.object({
    ...storage,
    /** A chunk is closed once it holds this many raw (uncompressed) bytes. */
    CHUNK_MAX_RAW_BYTES: positiveInt.default(64 * 1024 * 1024),
    /** Stop and hand back LastEvaluatedKey when less than this much invocation time is left. */
    TIME_RESERVE_MS: positiveInt.default(60_000),
    /** Scan page size (items); DynamoDB also stops a page at 1 MB. */
    SCAN_PAGE_LIMIT: positiveInt.optional(),
  }),
  deps: (env, { clients, remainingMs }) => ({
    dynamodb: clients.dynamodb,
    store: new S3ObjectStore(clients.s3, env.BUCKET_NAME),
    remainingMs,
    config: {
      chunkMaxRawBytes: env.CHUNK_MAX_RAW_BYTES,
      timeReserveMs: env.TIME_RESERVE_MS,
      pageLimit: env.SCAN_PAGE_LIMIT,
    },
  }),
  run,
  respond: (result, _env, { logger, metrics }) => {
    metrics.addMetric('SegmentInvocations', MetricUnit.Count, 1);
    logger.info('segment pass', {
      table: result.table,
      segment: result.segment,
      items: result.items,
      done: result.done,
    });
    return result;
  },
});
