import { describe, expect, it } from 'vitest';
import { backupAgeSeconds } from '../../functions/core/backup-age';

const S = 1_000_000;
const REGISTERED = 1_000 * S;

describe('backupAgeSeconds (feeds the "backup missing" alarm)', () => {
  it.each([
    ['no backup yet: since registration', [], 1_600 * S, 600],
    [
      'the newest COMPLETED backup counts from its end',
      [
        { status: 'COMPLETED', endTs: 1_200 * S },
        { status: 'COMPLETED', endTs: 1_500 * S },
      ],
      1_600 * S,
      100,
    ],
    [
      'FAILED, RUNNING and DELETED backups do not count',
      [
        { status: 'COMPLETED', endTs: 1_100 * S },
        { status: 'FAILED', endTs: 1_590 * S },
        { status: 'RUNNING' },
        { status: 'DELETED', endTs: 1_595 * S },
      ],
      1_600 * S,
      500,
    ],
    [
      'a backup before registration (re-registered cluster) counts from registration',
      [{ status: 'COMPLETED', endTs: 10 * S }],
      1_600 * S,
      600,
    ],
    ['never negative', [{ status: 'COMPLETED', endTs: 2_000 * S }], 1_600 * S, 0],
  ] as const)('%s', (_, backups, now, expected) => {
    // Act
    const age = backupAgeSeconds([...backups], REGISTERED, now);
    // Assess
    expect(age).toBe(expected);
  });
});
