import { InvalidInputError } from './errors';

/**
 * Instants are microseconds since the Unix epoch (UTC). A JS number holds them exactly until
 * the year 2255 (2^53 µs), and they sort and subtract without a library.
 */
export type Micros = number;

const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
const KEY_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{6})Z$/;

/** The latest instant a Micros holds exactly (2^53 − 1 µs), for messages. */
export const LATEST_INSTANT = '2255-06-05T23:47:34.740991Z';

export const millisToMicros = (ms: number): Micros => Math.round(ms * 1000);

export function microsFromParts(parts: string[]): Micros {
  const [y, mo, d, h, mi, s, frac] = parts.map((p) => p ?? '');
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return ms * 1000 + Number((frac ?? '').padEnd(6, '0'));
}

/** Parse `2026-11-27T04:15:00.123456Z` (0–6 fraction digits). `field` names the input in errors. */
export function parseIsoMicros(text: string, field = 'instant'): Micros {
  const match = ISO_PATTERN.exec(text);
  if (!match)
    throw new InvalidInputError(
      field,
      `an ISO-8601 UTC instant like 2026-11-27T04:15:00.123456Z, got "${text}"`,
    );
  const micros = microsFromParts(match.slice(1));
  // Microseconds since 1970 stay exact in a JS number only until 2255-06-05 (2^53 µs).
  if (Number.isFinite(micros) && !Number.isSafeInteger(micros))
    throw new InvalidInputError(
      field,
      `an instant between 1970 and ${LATEST_INSTANT} (microsecond precision), got "${text}"`,
    );
  if (!Number.isFinite(micros) || formatIsoMicros(micros).slice(0, 19) !== text.slice(0, 19)) {
    throw new InvalidInputError(field, `a real calendar instant, got "${text}"`);
  }
  return micros;
}

function split(micros: Micros): { date: Date; frac: string } {
  const ms = Math.floor(micros / 1000);
  const frac = String(micros - Math.floor(micros / 1_000_000) * 1_000_000).padStart(6, '0');
  return { date: new Date(ms), frac };
}

/** `2026-11-27T04:15:00.123456Z` — always six fraction digits. */
export function formatIsoMicros(micros: Micros): string {
  const { date, frac } = split(micros);
  return `${date.toISOString().slice(0, 19)}.${frac}Z`;
}

/** Fixed-width key form `20261127T041500.123456Z`: lexical order is time order. */
export function formatKeyTime(micros: Micros): string {
  const { date, frac } = split(micros);
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${frac}Z`;
}

export function parseKeyTime(text: string): Micros {
  const match = KEY_PATTERN.exec(text);
  if (!match) throw new InvalidInputError('key time', `yyyymmddThhmmss.ffffffZ, got "${text}"`);
  return microsFromParts(match.slice(1));
}

/** Hour bucket `20261127T04` used in log object keys. */
export function formatHourBucket(micros: Micros): string {
  return formatKeyTime(micros).slice(0, 11);
}
