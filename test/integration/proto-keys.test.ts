import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { advanceCheckpointUntil } from '../../demo/checkpoint-wait';
import { createDemoTable } from '../../demo/workload';
import { canonicalItem, fromSdkItem, type Item } from '../../functions/core/dynamo-json';
import { formatIsoMicros } from '../../functions/core/time';
import { cliRunner } from '../support/cli';
import { localClients, uniqueName } from '../support/cloud';

/**
 * Attributes named `__proto__` (and other Object.prototype members), top level and nested, on
 * DynamoDB Local through the Rewind clients, a snapshot + restore, and the log path (change
 * bridge → Kinesis → ship-log → log objects → replay).
 */
const cfg = inject('localConfig');
const { dynamodb, catalog, lambda } = localClients(cfg);
const rewind = cliRunner(cfg);

/** Items as JSON.parse gives them: every name an own property (a literal `__proto__:` would not be). */
const tricky = (sk: number, note: string): Item =>
  JSON.parse(
    `{"pk":{"S":"p${sk % 3}"},"sk":{"N":"${sk}"},"status":{"S":"open"},` +
      `"__proto__":{"S":"user data ${note}"},"constructor":{"N":"${sk}"},"toString":{"SS":["a","b"]},` +
      `"m":{"M":{"__proto__":{"M":{"__proto__":{"S":"${note}"},"hasOwnProperty":{"BOOL":true}}},` +
      `"prototype":{"L":[{"M":{"__proto__":{"N":"1"}}},{"S":"x"}]}}}}`,
  );

const innocent = (sk: number): Item => ({
  pk: { S: `p${sk % 3}` },
  sk: { N: String(sk) },
  status: { S: 'open' },
  note: { S: `innocent ${sk}` },
});

/** Own keys, sorted, at every depth: sees an own `__proto__` and a changed prototype. */
function strict(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(strict).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const proto = Object.getPrototypeOf(v) === Object.prototype ? '' : '!proto!';
    const keys = Object.keys(v).sort();
    return `${proto}{${keys.map((k) => `${JSON.stringify(k)}:${strict((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

async function scanAll(table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start as never }),
    );
    for (const item of page.Items ?? []) {
      const it = fromSdkItem(item);
      out.set(`${it.pk && 'S' in it.pk ? it.pk.S : ''}/${it.sk && 'N' in it.sk ? it.sk.N : ''}`, strict(it));
      // canonicalItem throws on an attribute the SDK left undefined: fail here, naming it.
      canonicalItem(it);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

let table: string;
const cluster = uniqueName('proto');

beforeAll(async () => {
  table = uniqueName('proto-orders');
  await createDemoTable(dynamodb, table, 'orders');
});

afterAll(() => {
  dynamodb.destroy();
  lambda.destroy();
});

describe('attributes named __proto__ on DynamoDB Local', () => {
  it('PutItem then GetItem and Scan through the Rewind client give the item back exactly', async () => {
    // Prepare
    const scratch = uniqueName('proto-scratch');
    await createDemoTable(dynamodb, scratch, 'orders');
    const item = tricky(1, 'one');
    // Act
    await dynamodb.send(new PutItemCommand({ TableName: scratch, Item: item as never }));
    const got = await dynamodb.send(
      new GetItemCommand({
        TableName: scratch,
        Key: { pk: item.pk, sk: item.sk } as never,
        ConsistentRead: true,
      }),
    );
    const scanned = await scanAll(scratch);
    // Assess
    expect(strict(got.Item)).toBe(strict(item));
    expect([...scanned.values()]).toEqual([strict(item)]);
  });

  it('a snapshot and a point-in-time restore (log path through the change bridge) keep them exactly', {
    timeout: 180_000,
  }, async () => {
    // Prepare: register (change capture on), tricky and innocent items, a backup, then changes.
    expect((await rewind('cluster', 'register', '--cluster', cluster, '--tables', table)).code).toBe(0);
    for (let sk = 0; sk < 12; sk++) {
      const item = sk % 2 ? tricky(sk, `v1-${sk}`) : innocent(sk);
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: item as never }));
    }
    const backup = await rewind('backup', 'start', '--cluster', cluster, '--wait', '--json');
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json().status).toBe('COMPLETED');
    const atBackup = await scanAll(table);
    // `backup:ID` restores to the backup's restorableFrom (its end + the skew margin): write on after it.
    const restorableFrom =
      (await catalog.getBackup(cluster, String(backup.json().backupId)))?.restorableFrom ?? 0;
    while (Date.now() * 1000 < restorableFrom + 400_000) await new Promise((r) => setTimeout(r, 50));

    // After the backup: a new nested __proto__ value, new tricky and innocent items, a delete.
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'p1' }, sk: { N: '1' } },
        UpdateExpression: 'SET #m.#p = :v',
        ExpressionAttributeNames: { '#m': 'm', '#p': '__proto__' },
        ExpressionAttributeValues: { ':v': JSON.parse('{"M":{"__proto__":{"S":"changed"}}}') },
      }),
    );
    for (let sk = 12; sk < 18; sk++) {
      const item = sk % 2 ? tricky(sk, `v2-${sk}`) : innocent(sk);
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: item as never }));
    }
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'p0' }, sk: { N: '3' } } }),
    );
    // The local change bridge stamps a change when it reads it (docs/local-differences.md):
    // let it drain before taking the instant the log must reach.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const lastWrite = Date.now() * 1000;
    const expected = await scanAll(table);
    expect(expected.size).toBe(17);
    const checkpoint = await advanceCheckpointUntil(
      cfg,
      cluster,
      Math.max(lastWrite, restorableFrom),
      120_000,
    );

    // Act
    const fromSnapshot = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      `backup:${backup.json().backupId}`,
      '--target-prefix',
      'snap-',
      '--wait',
      '--json',
    );
    const fromLog = await rewind(
      'restore',
      'start',
      '--cluster',
      cluster,
      '--to',
      formatIsoMicros(checkpoint),
      '--target-prefix',
      'pitr-',
      '--wait',
      '--json',
    );

    // Assess
    expect(fromSnapshot.code, fromSnapshot.stderr).toBe(0);
    expect(fromSnapshot.json().status).toBe('COMPLETED');
    expect(await scanAll(`snap-${table}`)).toEqual(atBackup);
    expect(fromLog.code, fromLog.stderr).toBe(0);
    expect(fromLog.json().status).toBe('COMPLETED');
    const restored = await scanAll(`pitr-${table}`);
    expect([...restored.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, item] of expected) expect(restored.get(key), key).toBe(item);
    expect(restored.get('p1/1')).toContain('"changed"');
  });
});
