import { InvalidArgumentError } from 'commander';
import { InvalidInputError } from '../functions/core/errors';
import { assertClusterName } from '../functions/core/keys';
import { type Micros, parseIsoMicros } from '../functions/core/time';

/**
 * Option parsers. Each throws commander's InvalidArgumentError, which commander reports as
 * `option '--flag <value>' argument 'x' is invalid. <what was expected>` (exit 2).
 */
function check<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidArgumentError(`Expected ${error.expected}.`);
    throw error;
  }
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError('Expected a positive whole number.');
  return Number(value);
}

/** A cluster, backup or table name: 1-255 of [A-Za-z0-9_.-] (the S3 key layout's rule). */
export function name(value: string): string {
  return check(() => {
    assertClusterName('name', value);
    return value;
  });
}

/** A backup's free-text label. */
export function label(value: string): string {
  if (value.length < 1 || value.length > 255) throw new InvalidArgumentError('Expected 1-255 characters.');
  return value;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** `t1,t2`: DynamoDB table names (3-255 of [A-Za-z0-9_.-]), no duplicates. */
export function tableList(value: string): string[] {
  const tables = value.split(',').map((t) => t.trim());
  const bad = tables.find((t) => !TABLE_NAME.test(t));
  if (bad !== undefined)
    throw new InvalidArgumentError(
      `Expected comma-separated DynamoDB table names (3-255 of [A-Za-z0-9_.-]), got "${bad}".`,
    );
  const duplicate = tables.find((t, i) => tables.indexOf(t) !== i);
  if (duplicate) throw new InvalidArgumentError(`Expected each table once, "${duplicate}" is repeated.`);
  return tables;
}

const CRON_FIELD = /^[0-9A-Za-z*?/,#LW-]+$/;

/**
 * A cron expression, loosely: 5 fields (crontab `m h dom mon dow`) or 6 (EventBridge, with a
 * year), optionally wrapped in `cron(...)`. The scheduler checks the details.
 */
export function cron(value: string): string {
  const body = /^cron\((.*)\)$/.exec(value.trim())?.[1] ?? value.trim();
  const fields = body.split(/\s+/).filter(Boolean);
  if ((fields.length !== 5 && fields.length !== 6) || !fields.every((f) => CRON_FIELD.test(f)))
    throw new InvalidArgumentError(
      `Expected a cron expression of 5 fields (m h dom mon dow, e.g. "15 3 * * *") or 6 (EventBridge, with a year), got "${value}".`,
    );
  return fields.join(' ');
}

/** An IANA time zone such as Europe/Paris. */
export function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    throw new InvalidArgumentError(`Expected an IANA time zone such as Europe/Paris, got "${value}".`);
  }
}

/** An ISO-8601 UTC instant with up to microseconds (`2026-11-27T04:15:00.123456Z`) → micros. */
export function instant(value: string): Micros {
  return check(() => parseIsoMicros(value));
}
