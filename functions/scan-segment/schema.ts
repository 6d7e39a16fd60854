import { z } from 'zod';

/** A DynamoDB key in DynamoDB JSON (binary as base64) so it survives Step Functions state. */
const jsonKey = z.record(z.string(), z.record(z.string(), z.unknown()));

export const scanSegmentInput = z.object({
  cluster: z.string().min(1),
  backupId: z.string().min(1),
  snapshotPrefix: z.string().min(1),
  table: z.string().min(1),
  segment: z.number().int().nonnegative(),
  totalSegments: z.number().int().positive(),
  /** Part number of the next chunk; continues across invocations of the same segment. */
  nextPart: z.number().int().nonnegative().default(0),
  exclusiveStartKey: jsonKey.optional(),
  /** Items written by earlier invocations of this segment. */
  items: z.number().int().nonnegative().default(0),
  invocations: z.number().int().nonnegative().default(0),
});
export type ScanSegmentInput = z.infer<typeof scanSegmentInput>;

export type ScanSegmentOutput = Omit<ScanSegmentInput, 'exclusiveStartKey'> & {
  exclusiveStartKey?: Record<string, Record<string, unknown>>;
  /** false: time ran short; the state machine calls again from `exclusiveStartKey`. */
  done: boolean;
};
