import { z } from 'zod';

/**
 * Lambda's Kinesis event (one shard per batch on AWS). Only the fields ship-log reads are
 * required; the rest pass through. The local event-source poller builds the same shape.
 */
export const kinesisEventRecord = z.looseObject({
  kinesis: z.looseObject({
    /** Base64 of the Kinesis record data: a Kinesis-Data-Streams-for-DynamoDB change as JSON. */
    data: z.string(),
    sequenceNumber: z.string().regex(/^\d+$/, 'a Kinesis sequence number'),
    partitionKey: z.string(),
    /** Seconds since the epoch, fractional (millisecond precision on AWS). */
    approximateArrivalTimestamp: z.number().nonnegative(),
  }),
  /** `shardId-000000000001:<sequenceNumber>`. */
  eventID: z.string().regex(/^shardId-[^:]+:\d+$/, 'shardId-…:<sequenceNumber>'),
  /** The stream's ARN: `arn:aws:kinesis:<region>:<account>:stream/rewind-log-<cluster>`. */
  eventSourceARN: z.string().min(1),
});
export type KinesisEventRecord = z.infer<typeof kinesisEventRecord>;

export const kinesisEvent = z.looseObject({ Records: z.array(kinesisEventRecord) });
export type KinesisEvent = z.infer<typeof kinesisEvent>;

/** What Lambda reads back with ReportBatchItemFailures: `itemIdentifier` = sequence number. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
