import { z } from 'zod';

const sequenceNumber = z.string().regex(/^\d+$/, 'a Kinesis sequence number');
const isoInstant = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'an ISO-8601 instant');

/**
 * What Lambda sends to a Kinesis event source mapping's on-failure destination when it
 * discards a batch (retries exhausted, record too old): metadata only, not the records.
 * Arrival times are ISO-8601 with millisecond precision.
 */
export const kinesisBatchInfo = z.looseObject({
  shardId: z.string().min(1),
  startSequenceNumber: sequenceNumber,
  endSequenceNumber: sequenceNumber,
  approximateArrivalOfFirstRecord: isoInstant,
  approximateArrivalOfLastRecord: isoInstant,
  batchSize: z.number().int().nonnegative(),
  streamArn: z.string().min(1),
});
export type KinesisBatchInfo = z.infer<typeof kinesisBatchInfo>;

export const kinesisFailureRecord = z.looseObject({
  requestContext: z.looseObject({
    requestId: z.string().optional(),
    functionArn: z.string().optional(),
    /** RetryAttemptsExhausted, RecordAgeExceeded, … */
    condition: z.string().min(1),
    approximateInvokeCount: z.number().int().optional(),
  }),
  responseContext: z
    .looseObject({
      statusCode: z.number().int().optional(),
      executedVersion: z.string().optional(),
      functionError: z.string().nullish(),
    })
    .optional(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
  KinesisBatchInfo: kinesisBatchInfo,
});
export type KinesisFailureRecord = z.infer<typeof kinesisFailureRecord>;

/** On AWS the destination is an SQS queue whose messages carry the record as their body. */
export const sqsEvent = z.looseObject({
  Records: z
    .array(z.looseObject({ messageId: z.string(), body: z.string(), eventSource: z.literal('aws:sqs') }))
    .min(1),
});
