import type { Readable } from 'node:stream';

/**
 * Where backup objects live. `S3ObjectStore` is the real one; tests use the same class against
 * s3rver. Keys come from core/keys.ts only.
 */
export interface ObjectStore {
  /** Write a small object in one request (manifests, reports). Overwrites. */
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /**
   * Stream a large object (multipart when big). Resolves once the object is durable; rejects
   * (and aborts the multipart upload) if the stream errors.
   */
  upload(key: string, body: Readable, contentType?: string): Promise<void>;
  /** Whole object; throws `ObjectNotFoundError` when absent. */
  get(key: string): Promise<Buffer>;
  /** Object as a stream; throws `ObjectNotFoundError` when absent. */
  getStream(key: string): Promise<Readable>;
  /** `true` if the key exists. */
  exists(key: string): Promise<boolean>;
  /** Every object under the prefix, in key order, paging as needed. */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;
  /** Delete keys (batches of 1,000); missing keys are not an error. Returns how many were asked. */
  delete(keys: string[]): Promise<number>;
}
