import { performance } from 'node:perf_hooks';
import { DescribeTableCommand, ResourceNotFoundException as TableMissing } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { Catalog } from '../functions/adapters/catalog';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import { isProtected } from '../functions/core/catalog-model';
import type { JsonItem } from '../functions/core/dynamo-json';
import { RewindError } from '../functions/core/errors';
import { logStreamName } from '../functions/core/log-format';
import type { Micros } from '../functions/core/time';
import { createTimestamper, partitionKeyOf, toKdsRecord } from './change-capture';
import { type ClientSettings, dynamoClient, kinesisClient, streamsClient } from './clients';
import { createErrorReporter, pollUntilStopped, singleFlight, waitUntilCaughtUp } from './poll-loop';
import { createSleeper, settleWithin } from './sleeper';

/**
 * The local change bridge: what AWS's Kinesis Data Streams for DynamoDB does natively. It reads
 * the DynamoDB Local Streams of every registered cluster's tables and puts each change into the
 * cluster's Kinesis stream (`rewind-log-<cluster>`) in the Kinesis-Data-Streams-for-DynamoDB
 * record format, partition key from the item key (one item's changes stay on one shard).
 *
 * DynamoDB Local truncates ApproximateCreationDateTime to the minute, so the bridge assigns
 * microsecond timestamps itself (docs/local-differences.md): see `createTimestamper` in
 * local/change-capture.ts.
 */

export type BridgeSettings = ClientSettings<'dynamodb' | 'kinesis'> & { catalogTable: string };

export interface ChangeBridgeOptions {
  cfg: BridgeSettings;
  /** Where registered clusters come from (default: DynamoCatalog on cfg.catalogTable). */
  catalog?: Pick<Catalog, 'listClusters'>;
  /** Pause between polls of a table's stream when it had nothing new (default 100 ms). */
  pollMs?: number;
  /** How often the catalog and the tables' streams are re-read (default 1000 ms). */
  discoveryMs?: number;
  /** How long stop() waits for the rounds in flight (default 10 s). */
  stopGraceMs?: number;
  log?: (line: string) => void;
  now?: () => Micros;
  /**
   * Where each shard's last change already in Kinesis is kept, so a restarted bridge resumes
   * after it instead of re-reading the stream from its start (the bridge stamps changes when
   * it reads them: a change forwarded twice would carry two different timestamps).
   */
  positions?: BridgePositions;
}

/** Per shard (`<streamArn>|<shardId>`), the sequence number of the last change put in Kinesis. */
export interface BridgePositions {
  initial: Record<string, string>;
  /** Called with every position after a change; the store may write them asynchronously. */
  save(positions: Record<string, string>): void;
}

export interface ChangeBridgeStats {
  tables: number;
  shards: number;
  read: number;
  put: number;
  putRetries: number;
  errors: number;
}

export interface ChangeBridge {
  /**
   * Resolves once every change written to a registered table before the call is in Kinesis:
   * the catalog was re-read, and every table stream was then read to its end.
   */
  flush(timeoutMs?: number): Promise<void>;
  stats(): ChangeBridgeStats;
  /** Stops polling; waits for the round in flight (changes read but not yet put are dropped). */
  stop(): Promise<void>;
}

interface Entry {
  data: Uint8Array;
  partitionKey: string;
  /** The stream record's sequence number. */
  seq?: string;
}

interface Shard {
  key: string;
  shardId: string;
  parentKey?: string;
  streamArn: string;
  generation: number;
  iterator?: string;
  lastSeq?: string;
  /** Every change up to this sequence number is in Kinesis. */
  forwarded?: string;
  /** Changes read, stamped and not yet in Kinesis, in stream order. */
  pending: Entry[];
  /** The shard has no more records to read (closed and read to its end). */
  ended: boolean;
  /** Ended, and everything read is in Kinesis. */
  done: boolean;
}

const PUT_MAX_RECORDS = 500;
const PUT_MAX_BYTES = 4 * 1024 * 1024;
const IDLE_ROUNDS_BEFORE_SLOWDOWN = 50;

export function startChangeBridge(opts: ChangeBridgeOptions): ChangeBridge {
  const { cfg } = opts;
  const pollMs = opts.pollMs ?? 100;
  const discoveryMs = opts.discoveryMs ?? 1000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[change-bridge] ${line}\n`));
  const dynamodb = dynamoClient(cfg);
  const kinesis = kinesisClient(cfg);
  const streams = streamsClient(cfg);
  const catalog = opts.catalog ?? new DynamoCatalog(dynamodb, cfg.catalogTable);
  const stamp = createTimestamper(opts.now);
  const stats = { read: 0, put: 0, putRetries: 0, errors: 0 };
  const readers = new Map<string, TableReader>();
  const running = new Set<Promise<void>>();
  const timers = createSleeper();
  const { sleep, stopped } = timers;

  const getRecords = (iterator: string) =>
    streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));

  const report = createErrorReporter({
    log,
    stopped,
    suffix: ' (retrying)',
    counted: () => {
      stats.errors++;
    },
  });

  async function putEntries(shard: Shard, streamName: string): Promise<void> {
    for (let attempt = 0; shard.pending.length > 0; ) {
      let bytes = 0;
      let n = 0;
      for (const e of shard.pending) {
        if (n === PUT_MAX_RECORDS || (n > 0 && bytes + e.data.length > PUT_MAX_BYTES)) break;
        bytes += e.data.length + e.partitionKey.length;
        n++;
      }
      const chunk = shard.pending.slice(0, n);
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: chunk.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
        }),
      );
      // Failed records go first in the next call, in their original order.
      const failed = chunk.filter((_, i) => !out.Records?.[i]?.SequenceNumber);
      stats.put += chunk.length - failed.length;
      shard.pending = [...failed, ...shard.pending.slice(n)];
      if (failed.length === 0) {
        markForwarded(shard, chunk.at(-1)?.seq);
        continue;
      }
      stats.putRetries += failed.length;
      if (stopped()) throw new RewindError('change bridge stopped with records not yet put');
      await sleep(Math.min(2_000, 50 * 2 ** attempt++) * (0.5 + Math.random() / 2));
    }
  }

  const forwarded = { ...opts.positions?.initial };
  function markForwarded(shard: Shard, seq: string | undefined): void {
    if (!seq || !opts.positions) return;
    shard.forwarded = seq;
    forwarded[shard.key] = seq;
    opts.positions.save({ ...forwarded });
  }

  /** Follows one table of one cluster: its current stream and any older one still draining. */
  class TableReader {
    private readonly shards = new Map<string, Shard>();
    private readonly generations: string[] = [];
    private lastDescribe = Number.NEGATIVE_INFINITY;
    private refreshAfter = Number.NEGATIVE_INFINITY;
    private idleRounds = 0;
    caughtUpAt = Number.NEGATIVE_INFINITY;
    readonly done: Promise<void>;
    private retired = false;

    constructor(
      readonly cluster: string,
      readonly tableName: string,
    ) {
      this.done = this.run();
      running.add(this.done);
      void this.done.finally(() => running.delete(this.done));
    }

    get shardCount() {
      return [...this.shards.values()].filter((s) => !s.done).length;
    }

    retire() {
      this.retired = true;
    }

    requestRefresh(at: number) {
      this.refreshAfter = Math.max(this.refreshAfter, at);
    }

    private run() {
      return pollUntilStopped({
        timers,
        finished: () => this.retired,
        round: async () => {
          const idle = await this.round();
          this.idleRounds = idle ? this.idleRounds + 1 : 0;
          if (idle) await sleep(this.idleRounds > IDLE_ROUNDS_BEFORE_SLOWDOWN ? 4 * pollMs : pollMs, true);
        },
        failed: (err) => report(`${this.cluster}/${this.tableName}`, err),
      });
    }

    /** One pass over the ready shards; true when nothing was left to bridge. */
    private async round(): Promise<boolean> {
      const started = performance.now();
      if (this.lastDescribe <= this.refreshAfter || started - this.lastDescribe >= discoveryMs) {
        await this.describe();
        this.lastDescribe = started;
      }
      let idle = true;
      for (const shard of [...this.shards.values()]) {
        if (stopped() || this.retired) return false;
        if (this.ready(shard) && (await this.pump(shard))) idle = false;
      }
      if (idle) this.caughtUpAt = started;
      return idle;
    }

    private ready(shard: Shard): boolean {
      if (shard.done) return false;
      const parent = shard.parentKey ? this.shards.get(shard.parentKey) : undefined;
      if (parent && !parent.done) return false;
      // A new stream of the table (disabled, then enabled again) waits for the older to drain.
      return [...this.shards.values()].every((s) => s.done || s.generation >= shard.generation);
    }

    private async describe() {
      let arn: string | undefined;
      try {
        const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: this.tableName }));
        arn = Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
      } catch (err) {
        if (!(err instanceof TableMissing)) throw err;
      }
      if (arn && !this.generations.includes(arn)) this.generations.push(arn);
      for (const [generation, streamArn] of this.generations.entries()) {
        const known = [...this.shards.values()].filter((s) => s.streamArn === streamArn);
        if (streamArn !== arn && known.length > 0 && known.every((s) => s.done)) continue;
        let start: string | undefined;
        do {
          const { StreamDescription: d } = await streams.send(
            new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
          );
          for (const s of d?.Shards ?? []) {
            if (!s.ShardId) continue;
            const key = `${streamArn}|${s.ShardId}`;
            if (this.shards.has(key)) continue;
            const parentKey = s.ParentShardId ? `${streamArn}|${s.ParentShardId}` : undefined;
            this.shards.set(key, {
              key,
              shardId: s.ShardId,
              parentKey,
              streamArn,
              generation,
              lastSeq: forwarded[key],
              forwarded: forwarded[key],
              pending: [],
              ended: false,
              done: false,
            });
          }
          start = d?.LastEvaluatedShardId;
        } while (start);
      }
    }

    /**
     * Put the page read last time while reading the next one (the two overlap, in stream
     * order); true when anything moved. A page read is kept even when the put before it failed.
     */
    private async pump(shard: Shard): Promise<boolean> {
      const hadPending = shard.pending.length > 0;
      const [put, read] = await Promise.allSettled([
        hadPending ? putEntries(shard, logStreamName(this.cluster)) : Promise.resolve(),
        shard.ended ? Promise.resolve({ entries: [], moved: false }) : this.read(shard),
      ]);
      if (read.status === 'fulfilled') shard.pending.push(...read.value.entries);
      if (put.status === 'rejected') throw put.reason;
      if (read.status === 'rejected') throw read.reason;
      if (shard.ended && shard.pending.length === 0) {
        shard.done = true;
        this.refreshAfter = performance.now();
        return true;
      }
      return hadPending || read.value.moved;
    }

    /** One page of the shard, stamped in stream order and converted. */
    private async read(shard: Shard): Promise<{ entries: Entry[]; moved: boolean }> {
      if (!shard.iterator) {
        const from = shard.lastSeq
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: shard.lastSeq }
          : { ShardIteratorType: 'TRIM_HORIZON' as const };
        const out = await streams.send(
          new GetShardIteratorCommand({ StreamArn: shard.streamArn, ShardId: shard.shardId, ...from }),
        );
        shard.iterator = out.ShardIterator;
        shard.ended = !shard.iterator;
        if (shard.ended) return { entries: [], moved: true };
      }
      let page: Awaited<ReturnType<typeof getRecords>>;
      try {
        page = await getRecords(shard.iterator ?? '');
      } catch (err) {
        if (err instanceof TrimmedDataAccessException) {
          log(
            `${this.cluster}/${this.tableName}: ${shard.shardId} trimmed past ${shard.lastSeq}; changes lost`,
          );
          shard.lastSeq = undefined;
        } else if (!(err instanceof ExpiredIteratorException)) throw err;
        shard.iterator = undefined;
        return { entries: [], moved: true };
      }
      const records = page.Records ?? [];
      // Convert the whole page before moving past it: a record that fails to convert fails the
      // round with the iterator and lastSeq where they were, so the page is read again (and the
      // error reported) rather than dropped with the innocent records around it.
      let lastSeq = shard.lastSeq;
      const entries = records.map((record): Entry => {
        const truncated = (record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0) * 1000;
        const kds = toKdsRecord(record, this.tableName, cfg.region, stamp(truncated));
        lastSeq = record.dynamodb?.SequenceNumber ?? lastSeq;
        return {
          seq: record.dynamodb?.SequenceNumber,
          data: Buffer.from(JSON.stringify(kds)),
          partitionKey: partitionKeyOf(this.tableName, kds.dynamodb.Keys as JsonItem),
        };
      });
      shard.lastSeq = lastSeq;
      shard.iterator = page.NextShardIterator;
      shard.ended = !shard.iterator;
      stats.read += records.length;
      return { entries, moved: records.length > 0 || shard.ended };
    }
  }

  /** Readers for the registered clusters' tables: new ones started, deregistered ones retired. */
  const discovery = singleFlight(async () => {
    const wanted = new Set<string>();
    for (const cluster of (await catalog.listClusters()).filter(isProtected)) {
      for (const table of cluster.tables) {
        const key = `${cluster.clusterName}\u0000${table}`;
        wanted.add(key);
        if (!readers.has(key) && !stopped()) readers.set(key, new TableReader(cluster.clusterName, table));
      }
    }
    for (const [key, reader] of readers) {
      if (wanted.has(key)) continue;
      reader.retire();
      readers.delete(key);
    }
  });

  const discoveryLoop = pollUntilStopped({
    timers,
    round: async () => {
      await discovery.join();
      await sleep(discoveryMs);
    },
    failed: (err) => report('catalog', err),
  });

  let stopping: Promise<void> | undefined;
  return {
    async flush(timeoutMs = 60_000) {
      const t0 = performance.now();
      // A discovery already in flight may have read the catalog before t0: run a fresh one.
      await discovery.fresh();
      for (const reader of readers.values()) reader.requestRefresh(t0);
      timers.wake();
      await waitUntilCaughtUp({
        what: 'change bridge',
        lagging: () =>
          [...readers.values()].filter((r) => r.caughtUpAt < t0).map((r) => `${r.cluster}/${r.tableName}`),
        stopped,
        timeoutMs,
      });
    },
    stats: () => ({
      ...stats,
      tables: readers.size,
      shards: [...readers.values()].reduce((n, r) => n + r.shardCount, 0),
    }),
    stop() {
      stopping ??= (async () => {
        timers.stop();
        if (!(await settleWithin([discoveryLoop, ...running], opts.stopGraceMs ?? 10_000)))
          log('stopped with a DynamoDB or Kinesis call still running');
        readers.clear();
        for (const client of [dynamodb, kinesis, streams]) client.destroy();
      })();
      return stopping;
    },
  };
}
