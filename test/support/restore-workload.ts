import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { type DemoTableKind, demoItem } from '../../demo/workload';
import { nowMicros } from '../../functions/adapters/clock';
import type { LogCatalog } from '../../functions/adapters/log-catalog';
import type { ObjectStore } from '../../functions/adapters/object-store';
import { canonicalItem, fromSdkItem, type Item, itemToJson } from '../../functions/core/dynamo-json';
import { logKey } from '../../functions/core/keys';
import type { ChangeRecord } from '../../functions/core/log-format';
import { LOG_SCHEMA_VERSION } from '../../functions/core/log-model';
import { formatHourBucket, type Micros } from '../../functions/core/time';

/**
 * A workload on real tables that keeps a journal of every acknowledged change with its
 * instant, the oracle that replays the journal to any instant, and a log writer that ships the
 * journal as log objects in Rewind's layout (what ship-log would have written), with
 * duplicates and shuffled order.
 */
const KEY_ATTRIBUTES: Record<DemoTableKind, string[]> = { orders: ['pk', 'sk'], blobs: ['id'] };

export const keyOf = (kind: DemoTableKind, item: Item): Item =>
  Object.fromEntries(KEY_ATTRIBUTES[kind].map((a) => [a, item[a]])) as Item;

interface Change {
  table: string;
  key: string;
  ts: Micros;
  /** Canonical item after the change; undefined for a delete. */
  item?: string;
}

export class JournaledWorkload {
  readonly journal: Change[] = [];
  readonly records: ChangeRecord[] = [];
  private readonly initial = new Map<string, Map<string, string>>();
  private readonly live = new Map<string, Set<string>>();
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly dynamodb: DynamoDBClient,
    readonly tables: { name: string; kind: DemoTableKind; keys: number }[],
  ) {}

  /** Read the tables' current content: the oracle's starting point (nothing may write meanwhile). */
  async captureInitial(): Promise<void> {
    for (const { name, kind } of this.tables) {
      const state = new Map<string, string>();
      for await (const page of paginateScan(
        { client: this.dynamodb },
        { TableName: name, ConsistentRead: true },
      )) {
        for (const raw of page.Items ?? []) {
          const item = fromSdkItem(raw);
          state.set(canonicalItem(keyOf(kind, item)), canonicalItem(item));
        }
      }
      this.initial.set(name, state);
      this.live.set(name, new Set(state.keys()));
    }
  }

  /**
   * Puts (new and existing keys) and deletes until `stop()`, one sequential writer per table
   * (so each key's changes are ordered); each change is journaled with the instant after its ack.
   */
  start(): void {
    let n = 0;
    const writer = async (table: { name: string; kind: DemoTableKind; keys: number }) => {
      const live = this.live.get(table.name) ?? new Set<string>();
      while (!this.stopped) {
        const i = Math.floor(Math.random() * table.keys);
        const base = demoItem(table.kind, i);
        const key = keyOf(table.kind, base);
        const id = canonicalItem(key);
        const remove = Math.random() < 0.25;
        const seq = n++;
        const item: Item = { ...base, rev: { N: String(seq) }, note: { S: `rev ${seq}` } };
        if (remove)
          await this.dynamodb.send(new DeleteItemCommand({ TableName: table.name, Key: key as never }));
        else await this.dynamodb.send(new PutItemCommand({ TableName: table.name, Item: item as never }));
        const ts = nowMicros();
        if (remove && !live.has(id)) continue; // no change, no stream record
        this.journal.push({ table: table.name, key: id, ts, item: remove ? undefined : canonicalItem(item) });
        this.records.push({
          table: table.name,
          op: remove ? 'REMOVE' : live.has(id) ? 'MODIFY' : 'INSERT',
          keys: itemToJson(key),
          newImage: remove ? undefined : itemToJson(item),
          ts,
          eventId: `ev-${seq}`,
          shardId: 'shardId-000000000000',
          sequenceNumber: String(seq),
        });
        if (remove) live.delete(id);
        else live.add(id);
      }
    };
    this.running = Promise.all(this.tables.map(writer)).then(() => n);
  }

  async stop(): Promise<number> {
    this.stopped = true;
    return (await this.running) ?? 0;
  }

  /** Canonical items of `table` at instant `at`: the initial content plus every change ≤ at. */
  stateAt(table: string, at: Micros): string[] {
    const state = new Map(this.initial.get(table) ?? []);
    for (const change of this.journal) {
      if (change.table !== table || change.ts > at) continue;
      if (change.item) state.set(change.key, change.item);
      else state.delete(change.key);
    }
    return [...state.values()];
  }

  /** Changes with an instant in [from, to]. */
  changesBetween(from: Micros, to: Micros): number {
    return this.journal.filter((c) => c.ts >= from && c.ts <= to).length;
  }

  /**
   * Ship the journal as log objects: per table and UTC hour, every 7th record twice, order
   * shuffled, `perObject` records per object, indexed in the log catalog with their SHA-256.
   */
  async shipLog(
    cluster: string,
    store: ObjectStore,
    logCatalog: LogCatalog,
    perObject = 40,
  ): Promise<number> {
    let sequence = 10_000;
    let objects = 0;
    const groups = new Map<string, ChangeRecord[]>();
    this.records.forEach((r, i) => {
      const id = `${r.table}\u0000${formatHourBucket(r.ts)}`;
      const list = groups.get(id) ?? [];
      list.push(r);
      if (i % 7 === 0) list.push({ ...r });
      groups.set(id, list);
    });
    for (const list of groups.values()) {
      const shuffled = list
        .map((r) => ({ r, k: Math.random() }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.r);
      for (let i = 0; i < shuffled.length; i += perObject) {
        const records = shuffled.slice(i, i + perObject);
        const first = records[0];
        if (!first) continue;
        const firstSeq = String(sequence);
        const text = records
          .map(
            (r) =>
              `${JSON.stringify({ ...r, shardId: 'shardId-000000000000', sequenceNumber: String(sequence++) })}\n`,
          )
          .join('');
        const body = gzipSync(text, { level: 1 });
        const minTs = Math.min(...records.map((r) => r.ts));
        const key = logKey(cluster, first.table, minTs, 'shardId-000000000000', firstSeq);
        await store.put(key, body, 'application/gzip');
        await logCatalog.putLogObject({
          schemaVersion: LOG_SCHEMA_VERSION,
          cluster,
          key,
          table: first.table,
          shardId: 'shardId-000000000000',
          firstSequenceNumber: firstSeq,
          lastSequenceNumber: String(sequence - 1),
          minTs,
          maxTs: Math.max(...records.map((r) => r.ts)),
          records: records.length,
          rawBytes: Buffer.byteLength(text),
          bytes: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          writtenAt: nowMicros(),
        });
        objects++;
      }
    }
    return objects;
  }
}
