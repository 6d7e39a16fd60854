import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { Item } from '../core/dynamo-json';
import { RewindError } from '../core/errors';

/**
 * Writes into one table. `put`/`delete` queue a request and resolve once the writer has room
 * for more (backpressure: at most `concurrency` requests of 25 in flight plus one filling), so a
 * caller streaming a chunk never holds more than that in memory. The first failed write makes
 * every later call reject with its error.
 */
export interface TableWriter {
  put(item: Item): Promise<void>;
  delete(key: Item): Promise<void>;
  /** Send what is queued and wait for every write. */
  flush(): Promise<WriterStats>;
}

export interface WriterStats {
  puts: number;
  deletes: number;
  requests: number;
  /** BatchWriteItem calls that resent UnprocessedItems. */
  retries: number;
}

export interface BatchWriterOptions {
  /** BatchWriteItem requests in flight (default 8). */
  concurrency?: number;
  /** Give up after this many consecutive calls that wrote nothing of a batch (default 12). */
  maxAttempts?: number;
  /** Backoff: the n-th retry waits random() × min(maxDelayMs, baseDelayMs × 2^(n−1)) (full jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** DynamoDB kept refusing part of a batch (throughput) through every retry. */
export class WriteThrottledError extends RewindError {
  constructor(
    readonly table: string,
    readonly unprocessed: number,
    readonly attempts: number,
  ) {
    super(`${unprocessed} writes to ${table} still unprocessed after ${attempts} attempts without progress`);
  }
}

const BATCH = 25;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * BatchWriteItem with bounded concurrency; UnprocessedItems are resent with exponential backoff
 * and full jitter (AWS's recommendation for BatchWriteItem). Throttling errors thrown by the
 * call itself are retried by the SDK client's own (adaptive) retry strategy.
 */
export class BatchTableWriter implements TableWriter {
  private batch: WriteRequest[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly stats: WriterStats = { puts: 0, deletes: 0, requests: 0, retries: 0 };
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    options: BatchWriterOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 12);
    this.baseDelayMs = options.baseDelayMs ?? 25;
    this.maxDelayMs = options.maxDelayMs ?? 3_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  put(item: Item): Promise<void> {
    this.stats.puts++;
    return this.add({ PutRequest: { Item: item as never } });
  }

  delete(key: Item): Promise<void> {
    this.stats.deletes++;
    return this.add({ DeleteRequest: { Key: key as never } });
  }

  async flush(): Promise<WriterStats> {
    if (this.batch.length > 0) await this.dispatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.throwIfFailed();
    return { ...this.stats };
  }

  private async add(request: WriteRequest): Promise<void> {
    this.throwIfFailed();
    this.batch.push(request);
    if (this.batch.length >= BATCH) await this.dispatch();
  }

  private async dispatch(): Promise<void> {
    const requests = this.batch;
    this.batch = [];
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const sending = this.send(requests).catch((error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  private async send(requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    let idle = 0;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        await this.sleep(this.random() * cap);
      }
      this.stats.requests++;
      const { UnprocessedItems } = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
      );
      const left = UnprocessedItems?.[this.tableName] ?? [];
      idle = left.length === pending.length ? idle + 1 : 0;
      if (idle >= this.maxAttempts) throw new WriteThrottledError(this.tableName, left.length, attempt + 1);
      pending = left;
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
