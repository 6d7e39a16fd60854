import { Cron } from 'croner';
import { toEventBridgeCron } from './cron';
import { InvalidInputError } from './errors';

/**
 * The local scheduler (croner) must fire exactly when EventBridge Scheduler would on AWS, so a
 * cluster's schedule goes through the same translation CDK deploys (cdk/cron.ts →
 * `cron(m h dom mon dow year)`) and is then rewritten for croner:
 * - `?` becomes `*` (croner reads `?` as "the current value", i.e. a different schedule);
 * - EventBridge numbers days of week 1-7 from Sunday, croner 0-6: numbers become names;
 *   `nL` (last weekday n of the month) becomes croner's `NAME#L`;
 * - croner has no year field: the year is checked when the job fires;
 * - `W` (nearest weekday) has no croner equivalent and is refused with a clear error.
 */
export interface LocalCron {
  /** A 5-field croner pattern. */
  pattern: string;
  /** Whether the EventBridge year field allows a run in `year`. */
  yearMatches: (year: number) => boolean;
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

function fail(schedule: string, why: string): never {
  throw new InvalidInputError('schedule cron', `${why} (local scheduler), got "${schedule}"`);
}

function ebDayName(token: string, schedule: string): string {
  const day = DAY_NAMES[Number(token) - 1];
  if (!day) fail(schedule, `an EventBridge day of week 1-7, not "${token}"`);
  return day;
}

function dayOfWeek(field: string, schedule: string): string {
  if (field === '*') return '*';
  if (field.toUpperCase() === 'L') return 'SAT'; // EventBridge: L alone is the last day of the week
  return field
    .split(',')
    .map((part) => {
      const last = /^(\w+)L$/i.exec(part);
      if (last?.[1])
        return `${/^\d$/.test(last[1]) ? ebDayName(last[1], schedule) : last[1].toUpperCase()}#L`;
      // `6#3` = third Friday: only the day before `#` is a day number.
      const [days = '', nth] = part.split('#');
      const named = days.replace(/\d+/g, (token) => ebDayName(token, schedule));
      return nth === undefined ? named : `${named}#${nth}`;
    })
    .join(',');
}

function yearMatcher(field: string, schedule: string): (year: number) => boolean {
  const parts = field.split(',').map((part) => {
    const match = /^(\*|\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!match) fail(schedule, `a year field of *, YYYY, YYYY-YYYY or a /step, not "${part}"`);
    const from = match[1] === '*' ? 1970 : Number(match[1]);
    const to = match[2] !== undefined ? Number(match[2]) : match[1] === '*' || match[3] ? 2199 : from;
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    return (year: number) => year >= from && year <= to && (year - from) % step === 0;
  });
  return (year) => parts.some((matches) => matches(year));
}

/** The croner pattern (and year check) that fires when EventBridge Scheduler fires `schedule`. */
export function localCron(schedule: string): LocalCron {
  const expression = toEventBridgeCron(schedule);
  const body = /^cron\((.*)\)$/.exec(expression)?.[1] ?? expression;
  const [minute = '', hour = '', dom = '', month = '', dow = '', year = '*'] = body.split(' ');
  if (/W/i.test(dom)) fail(schedule, 'no W (nearest weekday) in the day of month');
  const pattern = [
    minute,
    hour,
    dom === '?' ? '*' : dom,
    month,
    dow === '?' ? '*' : dayOfWeek(dow, schedule),
  ].join(' ');
  return { pattern, yearMatches: yearMatcher(year, schedule) };
}

/**
 * The longest time, in hours, between two consecutive runs of `schedule` in `timeZone`, over the
 * next `runs` runs after `from` (about a year for a daily schedule; DST days included). The
 * "no backup for too long" alarm waits this long plus a slack.
 */
export function longestGapHours(schedule: string, timeZone: string, from: Date, runs = 400): number {
  const { pattern, yearMatches } = localCron(schedule);
  const cron = new Cron(pattern, { timezone: timeZone, paused: true });
  const times = cron
    .nextRuns(runs, from)
    .filter((d) => yearMatches(d.getUTCFullYear()))
    .map((d) => d.getTime());
  if (times.length < 2) return Number.POSITIVE_INFINITY;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return longest / 3_600_000;
}

/** The next instant (micros) `schedule` fires in `timeZone` after `after`, or undefined if never. */
export function nextRun(schedule: string, timeZone: string, after: number): number | undefined {
  const { pattern, yearMatches } = localCron(schedule);
  const cron = new Cron(pattern, { timezone: timeZone, paused: true });
  let from = new Date(Math.floor(after / 1000));
  for (let i = 0; i < 400; i++) {
    const next = cron.nextRun(from);
    if (!next) return undefined;
    if (yearMatches(next.getUTCFullYear())) return next.getTime() * 1000;
    from = next;
  }
  return undefined;
}
