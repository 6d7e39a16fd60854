/** How many parallel Scan segments a table gets (docs/design.md §8). */
export interface SegmentPolicy {
  targetBytesPerSegment: number;
  minSegments: number;
  maxSegments: number;
}

/** DynamoDB allows 1..1,000,000 segments; we clamp to the policy and to that range. */
export function chooseSegmentCount(tableSizeBytes: number, policy: SegmentPolicy): number {
  const wanted = Math.ceil(Math.max(0, tableSizeBytes) / policy.targetBytesPerSegment);
  const bounded = Math.min(policy.maxSegments, Math.max(policy.minSegments, wanted));
  return Math.min(1_000_000, Math.max(1, bounded));
}
