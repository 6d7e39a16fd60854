import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { ObjectStore } from './object-store';

export interface WrittenChunk {
  key: string;
  items: number;
  rawBytes: number;
  storedBytes: number;
  sha256: string;
}

/**
 * Streams NDJSON text through gzip into one object, hashing the stored bytes on the way, so
 * nothing larger than a few multipart parts is ever held in memory. gzip level 1: DynamoDB JSON
 * compresses ~7× even at level 1, and the scan must not wait on the compressor.
 */
export class ChunkWriter {
  private readonly gzip = createGzip({ level: 1 });
  private readonly hash = createHash('sha256');
  private readonly done: Promise<void>;
  private items = 0;
  private rawBytes = 0;
  private storedBytes = 0;

  constructor(
    store: ObjectStore,
    readonly key: string,
  ) {
    const tap = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.hash.update(chunk);
        this.storedBytes += chunk.length;
        callback(null, chunk);
      },
    });
    // pipeline (not pipe) so destroying gzip also fails the upload's body stream.
    pipeline(this.gzip, tap, () => undefined);
    this.done = store.upload(key, tap, 'application/gzip');
    // If the upload dies, fail pending writes instead of waiting for a drain that never comes.
    this.done.catch((error: unknown) => this.gzip.destroy(error as Error));
  }

  get rawSize(): number {
    return this.rawBytes;
  }

  get itemCount(): number {
    return this.items;
  }

  /**
   * Append lines (each ending in "\n") holding `itemCount` items, as text or as its UTF-8 bytes
   * (which the writer then owns: do not reuse the buffer); waits when gzip is full.
   */
  async write(lines: string | Uint8Array, itemCount: number): Promise<void> {
    this.items += itemCount;
    this.rawBytes += typeof lines === 'string' ? Buffer.byteLength(lines) : lines.byteLength;
    if (!this.gzip.write(lines)) await once(this.gzip, 'drain');
  }

  /** Give up on this chunk: the multipart upload is aborted and no object appears. */
  abort(reason: Error): void {
    this.done.catch(() => undefined);
    this.gzip.destroy(reason);
  }

  async close(): Promise<WrittenChunk> {
    this.gzip.end();
    await this.done;
    return {
      key: this.key,
      items: this.items,
      rawBytes: this.rawBytes,
      storedBytes: this.storedBytes,
      sha256: this.hash.digest('hex'),
    };
  }
}
