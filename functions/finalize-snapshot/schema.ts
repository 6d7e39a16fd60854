import { z } from 'zod';

export const finalizeSnapshotInput = z.object({
  cluster: z.string().min(1),
  backupId: z.string().min(1),
  kind: z.enum(['auto', 'manual']),
  snapshotPrefix: z.string().min(1),
  startTs: z.number().int(),
  work: z.array(z.object({ table: z.string(), segment: z.number().int(), totalSegments: z.number().int() })),
});
export type FinalizeSnapshotInput = z.infer<typeof finalizeSnapshotInput>;
