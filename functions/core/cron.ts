import { InvalidInputError } from './errors';

/**
 * Schedules are written either as a standard 5-field cron (`m h dom mon dow`, as in crontab and
 * the local runner's cron library) or as an EventBridge cron (`m h dom mon dow year`, optionally
 * wrapped in `cron(...)`). EventBridge Scheduler needs the second form, so the first is
 * translated here:
 * - a year field `*` is appended;
 * - exactly one of day-of-month / day-of-week must be `?` in EventBridge: a `*` becomes `?`;
 *   a 5-field cron that restricts both (crontab ORs them) cannot be expressed and is refused;
 * - crontab numbers days of week 0-7 (0 and 7 = Sunday), EventBridge 1-7 (1 = Sunday): numbers
 *   are rewritten as names (SUN..SAT), which mean the same in both;
 * - `*\/n` steps become `0/n` (minutes, hours) or `1/n` (day of month, month), the form the
 *   EventBridge documentation uses (in both input forms).
 */
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

function fail(expression: string, why: string): never {
  throw new InvalidInputError('schedule cron', `${why}, got "${expression}"`);
}

function dayName(token: string, expression: string): string {
  if (/^[A-Za-z]{3}$/.test(token)) {
    const upper = token.toUpperCase();
    if (!(DAY_NAMES as readonly string[]).includes(upper)) fail(expression, `unknown day "${token}"`);
    return upper;
  }
  if (!/^\d$/.test(token) || Number(token) > 7)
    fail(expression, `day of week 0-7 or SUN-SAT, not "${token}"`);
  return DAY_NAMES[Number(token) % 7] ?? fail(expression, `bad day "${token}"`);
}

function convertDayOfWeek(field: string, expression: string): string {
  if (field.includes('/') || field.includes('#') || /L/i.test(field.replace(/[A-Za-z]{3}/g, '')))
    fail(
      expression,
      'a 5-field cron day of week without steps, "#" or "L" (use the EventBridge form for those)',
    );
  return field
    .split(',')
    .map((part) => {
      const range = part.split('-');
      if (range.length === 1) return dayName(part, expression);
      if (range.length !== 2) fail(expression, `a day-of-week range like 1-5, not "${part}"`);
      const [from = '', to = ''] = range;
      const start = dayName(from, expression);
      // crontab's 7 is Sunday at the end of the week: "5-7" is FRI-SAT plus SUN.
      if (to === '7') return start === 'SUN' && from === '7' ? 'SUN' : `${start}-SAT,SUN`;
      const end = dayName(to, expression);
      if (
        DAY_NAMES.indexOf(end as (typeof DAY_NAMES)[number]) <
        DAY_NAMES.indexOf(start as (typeof DAY_NAMES)[number])
      )
        fail(expression, `a day-of-week range that does not wrap, not "${part}"`);
      return `${start}-${end}`;
    })
    .join(',');
}

const stepFrom = (field: string, first: string) => field.replace(/^\*\//, `${first}/`);

/** The EventBridge Scheduler expression `cron(m h dom mon dow year)` for a configured cron. */
export function toEventBridgeCron(input: string): string {
  const expression = input.trim();
  const wrapped = /^cron\((.*)\)$/.exec(expression);
  const body = (wrapped?.[1] ?? expression).trim();
  const fields = body.split(/\s+/);
  if (fields.length === 6) {
    const [minute = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
    if ((dom === '?') === (dow === '?'))
      fail(expression, 'an EventBridge cron with exactly one of day-of-month / day-of-week set to "?"');
    return `cron(${[stepFrom(minute, '0'), stepFrom(hour, '0'), stepFrom(dom, '1'), stepFrom(month, '1'), dow, year].join(' ')})`;
  }
  if (wrapped)
    fail(expression, 'cron(...) with 6 fields (minutes hours day-of-month month day-of-week year)');
  if (fields.length !== 5)
    fail(expression, '5 fields (minute hour day-of-month month day-of-week) or an EventBridge cron of 6');
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = fields;
  const domAny = dom === '*' || dom === '?';
  const dowAny = dow === '*' || dow === '?';
  if (!domAny && !dowAny)
    fail(expression, 'at most one of day-of-month and day-of-week restricted (EventBridge cannot OR them)');
  const ebDom = dowAny ? stepFrom(dom === '?' ? '*' : dom, '1') : '?';
  const ebDow = dowAny ? '?' : convertDayOfWeek(dow, expression);
  return `cron(${[stepFrom(minute, '0'), stepFrom(hour, '0'), ebDom, stepFrom(month, '1'), ebDow, '*'].join(' ')})`;
}

/** Throws unless `timeZone` is an IANA zone name this Node knows (EventBridge Scheduler takes the same names). */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new InvalidInputError(
      'schedule timeZone',
      `an IANA time zone such as "Europe/Paris", got "${timeZone}"`,
    );
  }
}
