import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-kinesis';
import { RewindError } from '../functions/core/errors';
import { clusterOfStream } from '../functions/core/log-format';
import { type ClientSettings, kinesisClient, LOCAL_ACCOUNT_ID } from './clients';
import { deliverBatch, type KinesisRecordIn, lambdaKinesisEvent, onFailureRecord } from './kinesis-delivery';
import { createErrorReporter, pollUntilStopped, singleFlight, waitUntilCaughtUp } from './poll-loop';
import { createSleeper, settleWithin } from './sleeper';

/**
 * The local event-source mapping for Kinesis: what Lambda does between a stream and ship-log.
 * Per shard (children after their parents): GetRecords, gather up to `batchSize` records or for
 * `batchingWindowMs`, invoke with Lambda's Kinesis event, one batch in flight per shard. Partial
 * batch responses, retries, bisect on error and the on-failure destination follow
 * local/kinesis-delivery.ts. Positions live in memory: a new poller starts at TRIM_HORIZON.
 */

export interface KinesisPollerOptions {
  cfg: ClientSettings<'kinesis'>;
  invoke: (functionName: string, event: unknown) => Promise<unknown>;
  /** While false for `functionName`, the poller leaves the streams alone (default: always true). */
  hasFunction?: (functionName: string) => boolean;
  functionName?: string;
  /** Receives Lambda's on-failure destination record (KinesisBatchInfo) for dropped records. */
  onFailureFunction?: string;
  batchSize?: number;
  batchingWindowMs?: number;
  maxRetries?: number;
  bisectOnError?: boolean;
  /** First retry delay; doubles per retry (default 200 ms). */
  retryBackoffMs?: number;
  /** Pause between GetRecords of a shard with nothing new (default 200 ms). */
  pollMs?: number;
  discoveryMs?: number;
  /** Which `rewind-log-*` streams to poll (default: all). */
  include?: (streamName: string) => boolean;
  /** How long stop() waits for invocations in flight (default 10 s). */
  stopGraceMs?: number;
  log?: (line: string) => void;
}

export interface KinesisPollerStats {
  streams: number;
  shards: number;
  invocations: number;
  delivered: number;
  dropped: number;
}

export interface KinesisPoller {
  /** Resolves once every record in the polled streams before the call has been handled. */
  flush(timeoutMs?: number): Promise<void>;
  stats(): KinesisPollerStats;
  /** Stops polling; waits for invocations in flight (no retry starts after stop). */
  stop(): Promise<void>;
}

const GET_RECORDS_LIMIT = 1000;
const IDLE_POLLS_BEFORE_SLOWDOWN = 25;
const IDLE_POLL_MS = 1000;
/** Lambda's synchronous invocation payload limit is 6 MB; keep a margin for the envelope. */
const PAYLOAD_LIMIT_BYTES = 5_500_000;

/** How many buffered records the next batch takes, and whether it is full (size or payload). */
export function batchOf(buffer: { data: Uint8Array }[], batchSize: number): { count: number; full: boolean } {
  let bytes = 0;
  let count = 0;
  for (const r of buffer) {
    const size = Math.ceil(r.data.length / 3) * 4 + 400; // base64 data + the record's fields
    if (count === batchSize || (count > 0 && bytes + size > PAYLOAD_LIMIT_BYTES))
      return { count, full: true };
    bytes += size;
    count++;
  }
  return { count, full: count === batchSize };
}
const FAILURE_RETRY_MS = 1000;

export function startKinesisPoller(opts: KinesisPollerOptions): KinesisPoller {
  const cfg = opts.cfg;
  const functionName = opts.functionName ?? 'ship-log';
  const onFailureFunction = opts.onFailureFunction ?? 'record-gap';
  const batchSize = opts.batchSize ?? 100;
  const windowMs = opts.batchingWindowMs ?? 500;
  const pollMs = opts.pollMs ?? 200;
  const discoveryMs = opts.discoveryMs ?? 1000;
  const include = opts.include ?? (() => true);
  const hasFunction = () => opts.hasFunction?.(functionName) ?? true;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[kinesis-poller] ${line}\n`));
  const kinesis = kinesisClient(cfg);
  const functionArn = `arn:aws:lambda:${cfg.region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
  const stats = { invocations: 0, delivered: 0, dropped: 0 };
  const streams = new Map<string, StreamReader>();
  const running = new Set<Promise<void>>();
  const timers = createSleeper();
  const { sleep, stopped } = timers;
  const track = (work: Promise<void>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
    return work;
  };
  const report = createErrorReporter({ log, stopped });

  class ShardReader {
    private iterator?: string;
    private lastFetched?: string;
    private ended = false;
    private buffer: (KinesisRecordIn & { fetchedAt: number })[] = [];
    caughtUpAt = Number.NEGATIVE_INFINITY;
    finished = false;
    readonly done: Promise<void>;

    constructor(
      readonly stream: StreamReader,
      readonly shardId: string,
      private readonly parents: string[],
    ) {
      this.done = track(this.run());
    }

    private async run() {
      for (const parent of this.parents) await this.stream.shards.get(parent)?.done;
      let idlePolls = 0;
      await pollUntilStopped({
        timers,
        finished: () => this.finished,
        pause: { when: () => !hasFunction(), ms: 5 * pollMs },
        round: async () => {
          const moved = await this.step();
          idlePolls = moved || this.buffer.length > 0 ? 0 : idlePolls + 1;
          const first = this.buffer[0];
          if (first) await sleep(Math.max(1, Math.min(pollMs, first.fetchedAt + windowMs - Date.now())));
          // A shard idle for a while is polled once a second, Lambda's base rate (flush wakes it).
          else if (!moved) await sleep(idlePolls > IDLE_POLLS_BEFORE_SLOWDOWN ? IDLE_POLL_MS : pollMs, true);
        },
        failed: (err) => report(`${this.stream.name}/${this.shardId}`, err),
      });
    }

    /** Fetch if there is room, invoke if a batch is due; true when anything moved. */
    private async step(): Promise<boolean> {
      const readStart = performance.now();
      let fetched = 0;
      if (!this.ended && this.buffer.length < batchSize) {
        if (!this.iterator) {
          const from = this.lastFetched
            ? {
                ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const,
                StartingSequenceNumber: this.lastFetched,
              }
            : { ShardIteratorType: 'TRIM_HORIZON' as const };
          const out = await kinesis.send(
            new GetShardIteratorCommand({ StreamName: this.stream.name, ShardId: this.shardId, ...from }),
          );
          this.iterator = out.ShardIterator;
        }
        try {
          const out = await kinesis.send(
            new GetRecordsCommand({ ShardIterator: this.iterator, Limit: GET_RECORDS_LIMIT }),
          );
          this.iterator = out.NextShardIterator;
          this.ended = !out.NextShardIterator;
          const now = Date.now();
          for (const r of out.Records ?? []) {
            if (!r.SequenceNumber) continue;
            this.buffer.push({
              sequenceNumber: r.SequenceNumber,
              partitionKey: r.PartitionKey ?? '',
              data: r.Data ?? new Uint8Array(),
              approximateArrival: r.ApproximateArrivalTimestamp ?? new Date(now),
              fetchedAt: now,
            });
            this.lastFetched = r.SequenceNumber;
            fetched++;
          }
          if (fetched === 0 && this.buffer.length === 0 && (out.MillisBehindLatest ?? 0) === 0)
            this.caughtUpAt = readStart;
        } catch (err) {
          if (!(err instanceof ExpiredIteratorException)) throw err;
          this.iterator = undefined;
          return true;
        }
      }
      const first = this.buffer[0];
      const { count, full } = batchOf(this.buffer, batchSize);
      if (first && (full || this.ended || Date.now() - first.fetchedAt >= windowMs)) {
        const batch = this.buffer.slice(0, count);
        await this.deliver(batch);
        this.buffer.splice(0, batch.length);
        return true;
      }
      if (this.ended && this.buffer.length === 0) {
        this.finished = true;
        this.caughtUpAt = Number.POSITIVE_INFINITY;
        return true;
      }
      return fetched > 0;
    }

    private async deliver(batch: KinesisRecordIn[]) {
      const ctx = { shardId: this.shardId, streamArn: this.stream.arn, region: cfg.region, functionName };
      await deliverBatch(batch, {
        maxRetries: opts.maxRetries ?? 3,
        bisectOnError: opts.bisectOnError ?? true,
        retryBackoffMs: opts.retryBackoffMs ?? 200,
        sleep,
        stopped,
        invoke: async (records) => {
          stats.invocations++;
          return opts.invoke(functionName, lambdaKinesisEvent(records, ctx));
        },
        failed: (err) => report(`${this.stream.name}/${this.shardId} ${functionName}`, err),
        succeeded: (n) => {
          stats.delivered += n;
        },
        exhausted: async (records, attempts) => {
          const record = onFailureRecord(records, {
            ...ctx,
            functionArn,
            ...attempts,
            requestId: randomUUID(),
          });
          // No silent gaps: keep trying the on-failure function (the shard waits) until it answers.
          for (;;) {
            try {
              await opts.invoke(onFailureFunction, record);
              stats.dropped += records.length;
              log(
                `${this.stream.name}/${this.shardId}: ${records.length} record(s) sent to ${onFailureFunction}`,
              );
              return;
            } catch (err) {
              report(`${this.stream.name}/${this.shardId} ${onFailureFunction}`, err);
              if (stopped()) throw new RewindError(`stopped before ${onFailureFunction} took a failed batch`);
              await sleep(FAILURE_RETRY_MS);
            }
          }
        },
      });
    }
  }

  class StreamReader {
    readonly shards = new Map<string, ShardReader>();
    readonly arn: string;
    constructor(readonly name: string) {
      this.arn = `arn:aws:kinesis:${cfg.region}:${LOCAL_ACCOUNT_ID}:stream/${name}`;
    }

    async listShards() {
      let token: string | undefined;
      do {
        const out = await kinesis.send(
          new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.name }),
        );
        for (const s of out.Shards ?? []) {
          if (!s.ShardId || this.shards.has(s.ShardId) || stopped()) continue;
          const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p);
          this.shards.set(s.ShardId, new ShardReader(this, s.ShardId, parents));
        }
        token = out.NextToken;
      } while (token);
    }

    lagging(t0: number): string[] {
      if (!hasFunction()) return [];
      return [...this.shards.values()]
        .filter((s) => s.caughtUpAt < t0)
        .map((s) => `${this.name}/${s.shardId}`);
    }
  }

  /** Readers for the `rewind-log-*` streams and their shards, new ones started. */
  const discovery = singleFlight(async () => {
    let start: string | undefined;
    for (let more = true; more; ) {
      const out = await kinesis.send(new ListStreamsCommand({ ExclusiveStartStreamName: start }));
      for (const name of out.StreamNames ?? []) {
        if (clusterOfStream(name) === undefined || !include(name) || streams.has(name) || stopped()) continue;
        streams.set(name, new StreamReader(name));
      }
      start = out.StreamNames?.at(-1);
      more = !!out.HasMoreStreams && !!start;
    }
    await Promise.all([...streams.values()].map((s) => s.listShards()));
  });

  const discoveryLoop = track(
    pollUntilStopped({
      timers,
      round: async () => {
        await discovery.join();
        await sleep(discoveryMs);
      },
      failed: (err) => report('discovery', err),
    }),
  );

  let stopping: Promise<void> | undefined;
  return {
    async flush(timeoutMs = 60_000) {
      const t0 = performance.now();
      timers.wake();
      await discovery.fresh();
      await waitUntilCaughtUp({
        what: 'Kinesis poller',
        lagging: () => [...streams.values()].flatMap((s) => s.lagging(t0)),
        stopped,
        timeoutMs,
      });
    },
    stats: () => ({
      ...stats,
      streams: streams.size,
      shards: [...streams.values()].reduce(
        (n, s) => n + [...s.shards.values()].filter((r) => !r.finished).length,
        0,
      ),
    }),
    stop() {
      stopping ??= (async () => {
        timers.stop();
        if (!(await settleWithin([discoveryLoop, ...running], opts.stopGraceMs ?? 10_000)))
          log('stopped with an invocation still running');
        kinesis.destroy();
      })();
      return stopping;
    },
  };
}
