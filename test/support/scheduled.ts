/**
 * A scheduled fire time `daysAgo` days before today at 03:00 UTC — recent enough for the
 * scheduledAt bound (inside a 7-day retention), whatever day the tests run.
 */
export function scheduledRun(daysAgo: number) {
  const today = new Date();
  const ms = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - daysAgo, 3);
  const iso = new Date(ms).toISOString().replace('.000Z', 'Z');
  return { iso, micros: ms * 1000, key: `${iso.slice(0, 10).replaceAll('-', '')}T030000` };
}
