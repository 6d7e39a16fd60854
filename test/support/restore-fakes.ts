import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { MemoryCatalog } from '../../functions/adapters/memory-catalog';
import { MemoryLogCatalog } from '../../functions/adapters/memory-log-catalog';
import { MemoryRestoreCatalog } from '../../functions/adapters/memory-restore-catalog';
import { MemoryTargetTables } from '../../functions/adapters/memory-restore-tables';
import type { ObjectStore } from '../../functions/adapters/object-store';
import type { RestoreExecutions, RestoreRef } from '../../functions/adapters/restore-job';
import { ManifestCache } from '../../functions/adapters/restore-objects';
import { ObjectNotFoundError } from '../../functions/adapters/s3-object-store';
import { CATALOG_SCHEMA_VERSION } from '../../functions/core/catalog-model';
import { exportLine, type Item, itemToJson } from '../../functions/core/dynamo-json';
import { chunkKey, logKey, manifestKey, snapshotPrefix } from '../../functions/core/keys';
import type { ChangeRecord } from '../../functions/core/log-format';
import { LOG_SCHEMA_VERSION } from '../../functions/core/log-model';
import {
  type ChunkDescriptor,
  MANIFEST_FORMAT,
  type Manifest,
  tableSchema,
} from '../../functions/core/manifest';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { run as createTables } from '../../functions/restore-create-tables/run';
import { run as failRestore } from '../../functions/restore-fail/run';
import { type LoadOutput, run as load } from '../../functions/restore-load/run';
import { run as planReplay } from '../../functions/restore-plan-replay/run';
import { run as replay } from '../../functions/restore-replay/run';
import { run as resume } from '../../functions/restore-resume/run';
import { run as verify } from '../../functions/restore-verify/run';
import { run as startRestore } from '../../functions/start-restore/run';

/**
 * In-memory stand-ins for everything a restore touches (object store, catalogs, target tables,
 * Step Functions), builders that write snapshots and log objects exactly as the real pipeline
 * lays them out, and a driver that runs the real restore run() functions in state machine
 * order. Unit tests only: no network.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  gets = 0;

  async put(key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }
  async upload(key: string, body: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(Buffer.from(part as Uint8Array));
    this.objects.set(key, Buffer.concat(parts));
  }
  async get(key: string): Promise<Buffer> {
    this.gets++;
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(key);
    return Buffer.from(body);
  }
  async getStream(key: string): Promise<Readable> {
    return Readable.from([await this.get(key)]);
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    for (const key of [...this.objects.keys()].sort())
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)?.length ?? 0 };
  }
  async delete(keys: string[]): Promise<number> {
    for (const key of keys) this.objects.delete(key);
    return keys.length;
  }
}

export interface FakeTable {
  name: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  ttlAttribute?: string;
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** Every fake plus the deps objects the restore functions take. */
export class RestoreWorld {
  readonly catalog = new MemoryCatalog();
  readonly logCatalog = new MemoryLogCatalog();
  readonly restoreCatalog = new MemoryRestoreCatalog();
  readonly store = new MemoryObjectStore();
  readonly tables: MemoryTargetTables;
  readonly manifests = new ManifestCache();
  readonly started: { name: string; input: RestoreRef }[] = [];
  private clock: Micros;
  private sequence = 1000n;
  executions: RestoreExecutions = {
    start: async (name, input) => {
      this.started.push({ name, input });
      return `arn:aws:states:us-east-1:000000000000:execution:rewind-restore:${name}`;
    },
    status: async () => undefined,
  };

  constructor(
    readonly cluster = 'shop',
    options: { now?: Micros; describesWhileCreating?: number } = {},
  ) {
    this.clock = options.now ?? 1_800_000_000_000_000;
    this.tables = new MemoryTargetTables(options.describesWhileCreating ?? 0);
  }

  now = (): Micros => ++this.clock;

  async register(tables: FakeTable[]): Promise<void> {
    await this.catalog.putCluster({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: this.cluster,
      tables: tables.map((t) => t.name),
      retentionDays: 7,
      createdAt: '2026-11-27T00:00:00.000000Z',
    });
  }

  /** A COMPLETED snapshot: `items` per table cut into segments and chunks as scan-segment does. */
  async snapshot(
    backupId: string,
    window: { startTs: Micros; endTs: Micros; marginMicros: Micros },
    content: { table: FakeTable; items: Item[] }[],
    layout: { segments: number; itemsPerChunk: number } = { segments: 2, itemsPerChunk: 3 },
  ): Promise<Manifest> {
    const prefix = snapshotPrefix(this.cluster, window.startTs, backupId);
    const tables: Manifest['tables'] = [];
    for (const { table, items } of content) {
      const chunks: ChunkDescriptor[] = [];
      for (let segment = 0; segment < layout.segments; segment++) {
        const mine = items.filter((_, i) => i % layout.segments === segment);
        for (let part = 0; part * layout.itemsPerChunk < mine.length; part++) {
          const slice = mine.slice(part * layout.itemsPerChunk, (part + 1) * layout.itemsPerChunk);
          const text = slice.map(exportLine).join('');
          const body = gzipSync(text, { level: 1 });
          const key = chunkKey(prefix, table.name, segment, part);
          await this.store.put(key, body);
          chunks.push({
            key,
            segment,
            part,
            items: slice.length,
            rawBytes: Buffer.byteLength(text),
            storedBytes: body.length,
            sha256: sha256(body),
          });
        }
      }
      const sum = (f: 'items' | 'rawBytes' | 'storedBytes') => chunks.reduce((s, c) => s + c[f], 0);
      tables.push({
        schema: tableSchema.parse({
          tableName: table.name,
          keySchema: table.keySchema,
          attributeDefinitions: table.attributeDefinitions,
          billingMode: 'PAY_PER_REQUEST',
          ttl: { enabled: table.ttlAttribute !== undefined, attributeName: table.ttlAttribute },
        }),
        segments: layout.segments,
        items: sum('items'),
        rawBytes: sum('rawBytes'),
        storedBytes: sum('storedBytes'),
        chunks,
      });
    }
    const total = (f: 'items' | 'rawBytes' | 'storedBytes') => tables.reduce((s, t) => s + t[f], 0);
    const restorableFrom = window.endTs + window.marginMicros;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      cluster: this.cluster,
      backupId,
      kind: 'manual',
      startTs: formatIsoMicros(window.startTs),
      endTs: formatIsoMicros(window.endTs),
      restorableFrom: formatIsoMicros(restorableFrom),
      skewMarginMicros: window.marginMicros,
      tables,
      items: total('items'),
      rawBytes: total('rawBytes'),
      storedBytes: total('storedBytes'),
    };
    const key = manifestKey(prefix);
    await this.store.put(key, JSON.stringify(manifest));
    await this.catalog.beginBackup({
      schemaVersion: CATALOG_SCHEMA_VERSION,
      clusterName: this.cluster,
      backupId,
      kind: 'manual',
      status: 'RUNNING',
      requestedAt: window.startTs,
      startTs: window.startTs,
      snapshotPrefix: prefix,
      tables: [],
      items: 0,
      rawBytes: 0,
      storedBytes: 0,
    });
    await this.catalog.completeBackup(this.cluster, backupId, {
      endTs: window.endTs,
      restorableFrom,
      manifestKey: key,
      tables: tables.map((t) => ({
        name: t.schema.tableName,
        items: t.items,
        rawBytes: t.rawBytes,
        storedBytes: t.storedBytes,
        chunks: t.chunks.length,
      })),
      items: total('items'),
      rawBytes: total('rawBytes'),
      storedBytes: total('storedBytes'),
    });
    return manifest;
  }

  /**
   * One log object of `records` (all of one table), indexed as ship-log indexes it. `canonical`
   * writes ship-log's field order (table, op, keys first); otherwise a different order, which
   * a replay worker must read just the same.
   */
  async logObject(records: ChangeRecord[], canonical = true): Promise<string | undefined> {
    const first = records[0];
    if (!first) return undefined;
    const shardId = 'shardId-000000000000';
    const firstSeq = String(this.sequence);
    const lines = records.map((r) => {
      const seq = String(this.sequence++);
      const line = canonical
        ? {
            table: r.table,
            op: r.op,
            keys: r.keys,
            newImage: r.newImage,
            ts: r.ts,
            eventId: r.eventId,
            shardId,
            sequenceNumber: seq,
          }
        : {
            ts: r.ts,
            newImage: r.newImage,
            sequenceNumber: seq,
            shardId,
            eventId: r.eventId,
            keys: r.keys,
            op: r.op,
            table: r.table,
          };
      return `${JSON.stringify(line)}\n`;
    });
    const text = lines.join('');
    const body = gzipSync(text, { level: 1 });
    const minTs = Math.min(...records.map((r) => r.ts));
    const key = logKey(this.cluster, first.table, minTs, shardId, firstSeq);
    await this.store.put(key, body);
    await this.logCatalog.putLogObject({
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: this.cluster,
      key,
      table: first.table,
      shardId,
      firstSequenceNumber: firstSeq,
      lastSequenceNumber: String(this.sequence - 1n),
      minTs,
      maxTs: Math.max(...records.map((r) => r.ts)),
      records: records.length,
      rawBytes: Buffer.byteLength(text),
      bytes: body.length,
      sha256: sha256(body),
      writtenAt: this.now(),
    });
    return key;
  }

  async checkpoint(at: Micros): Promise<void> {
    await this.logCatalog.advanceClusterCheckpoint({
      schemaVersion: LOG_SCHEMA_VERSION,
      cluster: this.cluster,
      checkpoint: at,
      computedAt: at,
      marginMicros: 1_000_000,
      limitedBy: 'test',
      activeShards: 1,
    });
  }

  startDeps(marginMicros: Micros) {
    return {
      catalog: this.catalog,
      logCatalog: this.logCatalog,
      restoreCatalog: this.restoreCatalog,
      tables: this.tables,
      executions: this.executions,
      now: this.now,
      config: { skewMarginMicros: marginMicros },
    };
  }

  /** The restore functions' deps, bound to this world (the local registry's counterpart). */
  registry(config: {
    targetRecordsPerPartition: number;
    maxPartitions?: number;
    remainingMs?: () => number;
  }) {
    const common = {
      restoreCatalog: this.restoreCatalog,
      store: this.store,
      now: this.now,
      manifests: this.manifests,
    };
    return {
      'restore-create-tables': (e: unknown) =>
        createTables(e, { ...common, tables: this.tables, config: { maxConcurrency: 4, waitSeconds: 1 } }),
      'restore-load': (e: unknown) =>
        load(e, {
          ...common,
          tables: this.tables,
          remainingMs: config.remainingMs ?? (() => 900_000),
          config: { writeConcurrency: 2, timeReserveMs: 1_000 },
        }),
      'restore-plan-replay': (e: unknown) =>
        planReplay(e, {
          ...common,
          logCatalog: this.logCatalog,
          config: {
            targetRecordsPerPartition: config.targetRecordsPerPartition,
            maxPartitions: config.maxPartitions ?? 8,
            maxConcurrency: 4,
          },
        }),
      'restore-replay': (e: unknown) =>
        replay(e, {
          ...common,
          logCatalog: this.logCatalog,
          tables: this.tables,
          config: { writeConcurrency: 2 },
        }),
      'restore-verify': (e: unknown) => verify(e, { ...common, tables: this.tables }),
      'restore-fail': (e: unknown) => failRestore(e, { restoreCatalog: this.restoreCatalog, now: this.now }),
      'restore-resume': (e: unknown) =>
        resume(e, {
          restoreCatalog: this.restoreCatalog,
          executions: this.executions,
          now: this.now,
          config: { graceMs: 0 },
        }),
      'start-restore': (e: unknown, marginMicros: Micros) => startRestore(e, this.startDeps(marginMicros)),
    };
  }
}

export type RestoreRegistry = ReturnType<RestoreWorld['registry']>;

/**
 * Run one execution of the restore the way restore.asl.json orders it (tables → every load
 * unit to its end → plan replay → every replay unit → verify; any error → restore-fail), with
 * the Map items in `order` (a permutation source), since a Map runs its items in any order.
 */
export async function driveExecution(
  registry: RestoreRegistry,
  ref: RestoreRef,
  shuffle: <T>(items: T[]) => T[] = (items) => items,
): Promise<void> {
  try {
    let tables = await registry['restore-create-tables'](ref);
    while (!tables.tablesReady) tables = await registry['restore-create-tables'](ref);
    for (const unit of shuffle(tables.loadUnits)) {
      let out: LoadOutput = await registry['restore-load']({ ...ref, attempt: tables.attempt, ...unit });
      while (!out.done) out = await registry['restore-load'](out);
    }
    const plan = await registry['restore-plan-replay'](ref);
    for (const unit of shuffle(plan.replayUnits))
      await registry['restore-replay']({ ...ref, attempt: plan.attempt, ...unit });
    await registry['restore-verify']({ ...ref, replayUnits: plan.replayUnits });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    await registry['restore-fail']({ ...ref, failure: { Error: e.name, Cause: e.message } });
  }
}

/** The JSON form items take in change records. */
export const asJson = itemToJson;
