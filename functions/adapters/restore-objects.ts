import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ChecksumMismatchError } from '../core/errors';
import { type Manifest, manifest as manifestSchema } from '../core/manifest';
import { ObjectContentMismatchError } from '../core/restore-errors';
import type { ObjectStore } from './object-store';

const gunzipAsync = promisify(gunzip);

/**
 * Read an object whole and check it against its recorded SHA-256 (and size) before anything
 * of it is used (docs/design.md §3.6): a corrupt chunk is refused, never half-applied. Objects are
 * bounded (snapshot chunks by the chunk size bound, log objects by a Kinesis batch), so one
 * object in memory is the worker's memory bound.
 */
export async function readVerified(
  store: ObjectStore,
  key: string,
  expected: { sha256: string; bytes?: number },
): Promise<Buffer> {
  const body = await store.get(key);
  if (expected.bytes !== undefined && body.length !== expected.bytes)
    throw new ObjectContentMismatchError(key, `${body.length} bytes, recorded ${expected.bytes}`);
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== expected.sha256) throw new ChecksumMismatchError(key, expected.sha256, actual);
  return body;
}

/** The non-empty lines of a gzip NDJSON object. */
export async function* gzipLines(body: Buffer): AsyncGenerator<string> {
  const text = await gunzipAsync(body);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(10, start);
    if (end < 0) end = text.length;
    if (end > start) yield text.toString('utf8', start, end);
    start = end + 1;
  }
}

/** The non-empty lines of a gzip NDJSON object, as views of the decompressed bytes (no copies). */
export async function* gzipLineBuffers(body: Buffer): AsyncGenerator<Buffer> {
  const bytes = await gunzipAsync(body);
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    if (end > start) yield bytes.subarray(start, end);
    start = end + 1;
  }
}

/**
 * Manifests by key. A warm Lambda container serves many work units of the same restore, so the
 * (immutable) manifest is read and parsed once per container, not once per unit.
 */
export class ManifestCache {
  private readonly manifests = new Map<string, Promise<Manifest>>();

  constructor(private readonly limit = 4) {}

  get(store: ObjectStore, key: string): Promise<Manifest> {
    let cached = this.manifests.get(key);
    if (!cached) {
      cached = store.get(key).then((body) => manifestSchema.parse(JSON.parse(body.toString('utf8'))));
      cached.catch(() => this.manifests.delete(key));
      if (this.manifests.size >= this.limit) {
        const oldest = this.manifests.keys().next().value;
        if (oldest !== undefined) this.manifests.delete(oldest);
      }
      this.manifests.set(key, cached);
    }
    return cached;
  }
}
