import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../cdk/config';
import { assertTimeZone, toEventBridgeCron } from '../../cdk/cron';
import { InvalidInputError } from '../../functions/core/errors';

describe('toEventBridgeCron', () => {
  it.each([
    ['15 3 * * *', 'cron(15 3 * * ? *)'],
    ['0 2 1 * *', 'cron(0 2 1 * ? *)'],
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 4 * * 0', 'cron(0 4 ? * SUN *)'],
    ['0 4 * * 7', 'cron(0 4 ? * SUN *)'],
    ['30 1 * * 1-5', 'cron(30 1 ? * MON-FRI *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * FRI-SAT,SUN *)'],
    ['0 0 * * sat,sun', 'cron(0 0 ? * SAT,SUN *)'],
    ['0 6 */2 * *', 'cron(0 6 1/2 * ? *)'],
    ['cron(0 3 ? * MON-FRI *)', 'cron(0 3 ? * MON-FRI *)'],
    ['*/10 */2 ? * 2-6 *', 'cron(0/10 0/2 ? * 2-6 *)'],
    ['0 3 L * ? *', 'cron(0 3 L * ? *)'],
  ])('%s → %s', (input, expected) => {
    expect(toEventBridgeCron(input)).toBe(expected);
  });

  it.each([
    ['0 3 1 * 1', /at most one of day-of-month and day-of-week/],
    ['0 3 * * * *', /exactly one of day-of-month \/ day-of-week/],
    ['0 3 * *', /5 fields/],
    ['cron(0 3 * * *)', /6 fields/],
    ['0 3 * * 8', /day of week 0-7/],
    ['0 3 * * */2', /without steps/],
    ['0 3 * * 5-1', /does not wrap/],
  ])('refuses %s', (input, message) => {
    expect(() => toEventBridgeCron(input)).toThrow(message);
  });
});

describe('assertTimeZone', () => {
  it('accepts IANA names and refuses others', () => {
    expect(() => assertTimeZone('Europe/Paris')).not.toThrow();
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/IANA time zone/);
  });
});

describe('parseConfig', () => {
  it('fills defaults', () => {
    const config = parseConfig({ clusters: [{ name: 'shop', tables: ['orders'] }] }, 'test');
    expect(config).toEqual({
      stackName: 'Rewind',
      clusters: [{ name: 'shop', tables: ['orders'], retentionDays: 7 }],
      bucket: { noncurrentVersionDays: 30 },
      alarms: { rpoSeconds: 600, backupSlackHours: 2 },
    });
  });

  it.each([
    [{ clusters: [{ name: 'a b', tables: ['t1x'] }] }, /test: clusters\.0\.name/],
    [{ clusters: [{ name: 'a', tables: [] }] }, /clusters\.0\.tables/],
    [
      { clusters: [{ name: 'a', tables: ['t1x'], schedule: { cron: '0 3 1 * 1' } }] },
      /clusters\.0\.schedule\.cron/,
    ],
    [
      { clusters: [{ name: 'a', tables: ['t1x'], schedule: { cron: '0 3 * * *', timeZone: 'Nowhere' } }] },
      /timeZone/,
    ],
    [{ clusters: [{ name: 'a', tables: ['t1x'], retentionDays: 0 }] }, /retentionDays/],
    [
      { clusters: [{ name: 'a', tables: ['t1x'], retentionSweep: { cron: '0 3 * *' } }] },
      /test: clusters\.0\.retentionSweep\.cron: expected .*5 fields/,
    ],
    [
      {
        clusters: [{ name: 'a', tables: ['t1x'], retentionSweep: { cron: '0 3 * * *', timeZone: 'UTC+2' } }],
      },
      /test: clusters\.0\.retentionSweep\.timeZone: expected .*IANA time zone/,
    ],
    [
      { clusters: [{ name: 'a', tables: ['t1x'], retentionSweep: { timeZone: 'Etc/UTC' } }] },
      /retentionSweep\.cron/,
    ],
    [
      { clusters: [{ name: 'a', tables: ['t1x'], retentionSweep: { cron: '0 3 * * *', at: 1 } }] },
      /clusters\.0\.retentionSweep/,
    ],
    [{ clusters: [{ name: 'a', tables: ['t1x'], extra: 1 }] }, /clusters\.0/],
    [
      {
        clusters: [
          { name: 'a', tables: ['t1x'] },
          { name: 'a', tables: ['t2x'] },
        ],
      },
      /unique/,
    ],
  ])('names the bad field of %j', (raw, message) => {
    expect(() => parseConfig(raw, 'test')).toThrow(message);
  });
});

describe('parseConfig retentionSweep', () => {
  it('keeps a valid sweep schedule as written (CDK translates it)', () => {
    // Act
    const config = parseConfig(
      {
        clusters: [
          { name: 'a', tables: ['t1x'], retentionSweep: { cron: '30 4 * * 0', timeZone: 'Asia/Tokyo' } },
        ],
      },
      'test',
    );
    // Assess
    expect(config.clusters[0]?.retentionSweep).toEqual({ cron: '30 4 * * 0', timeZone: 'Asia/Tokyo' });
  });

  it.each([
    [{ cron: '0 3 1 * 1' }, 'test: clusters.0.retentionSweep.cron'],
    [{ cron: '0 3 * * *', timeZone: 'Mars/Olympus' }, 'test: clusters.0.retentionSweep.timeZone'],
  ])('refuses %j with an InvalidInputError whose field is %s', (retentionSweep, field) => {
    // Prepare
    const raw = { clusters: [{ name: 'a', tables: ['t1x'], retentionSweep }] };
    // Act
    let error: unknown;
    try {
      parseConfig(raw, 'test');
    } catch (caught) {
      error = caught;
    }
    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe(field);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-config-'));
  const empty = mkdtempSync(join(tmpdir(), 'rewind-config-'));
  afterAll(() => {
    for (const path of [dir, empty]) rmSync(path, { recursive: true, force: true });
  });
  const write = (name: string, value: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(value));
    return name;
  };

  it('reads -c config=<file> relative to the working directory first', () => {
    const file = write('prod.json', { clusters: [{ name: 'prod', tables: ['orders'] }] });
    const config = loadConfig({ configPath: file, inline: { clusters: [] }, cwd: dir });
    expect(config.clusters.map((c) => c.name)).toEqual(['prod']);
  });

  it('then the "rewind" context, as an object or as JSON text', () => {
    const inline = { clusters: [{ name: 'ctx', tables: ['orders'] }] };
    expect(loadConfig({ inline, cwd: dir }).clusters[0]?.name).toBe('ctx');
    expect(loadConfig({ inline: JSON.stringify(inline), cwd: dir }).clusters[0]?.name).toBe('ctx');
  });

  it('then rewind.config.json, then no clusters', () => {
    expect(loadConfig({ cwd: empty }).clusters).toEqual([]);
    writeFileSync(
      join(empty, 'rewind.config.json'),
      JSON.stringify({ clusters: [{ name: 'dflt', tables: ['t1x'] }] }),
    );
    expect(loadConfig({ cwd: empty }).clusters[0]?.name).toBe('dflt');
  });

  it('names the file when it is missing or invalid', () => {
    expect(() => loadConfig({ configPath: 'missing.json', cwd: dir })).toThrow(/missing\.json/);
    const bad = write('bad.json', { clusters: [{ name: 'x' }] });
    expect(() => loadConfig({ configPath: bad, cwd: dir })).toThrow(/bad\.json: clusters\.0\.tables/);
  });
});
