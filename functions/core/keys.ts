import { InvalidInputError } from './errors';
import { formatHourBucket, formatKeyTime, type Micros, parseKeyTime } from './time';

/**
 * S3 key layout — a public contract (docs/design.md §4). Keys are built and parsed here only.
 * The `v1/` prefix versions the format.
 */
export const FORMAT_PREFIX = 'v1';

const NAME = /^[A-Za-z0-9_.-]{1,255}$/;

export function assertName(field: string, value: string): void {
  if (!NAME.test(value))
    throw new InvalidInputError(field, `1-255 characters of [A-Za-z0-9_.-], got "${quote(value)}"`);
}

/**
 * Cluster names: 1-100 characters of [A-Za-z0-9_.-]. They become part of S3 keys, catalog keys,
 * schedule names and the log stream name `rewind-log-<cluster>`, which Kinesis caps at 128
 * characters; a slash or a 1 MB name must be refused here, not by those services.
 */
export const CLUSTER_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
export const CLUSTER_NAME_RULE = '1-100 characters of [A-Za-z0-9_.-]';

export function assertClusterName(field: string, value: string): void {
  if (!CLUSTER_NAME.test(value))
    throw new InvalidInputError(field, `${CLUSTER_NAME_RULE}, got "${quote(value)}"`);
}

/** A value for an error message: long ones cut, so a 1 MB input does not become a 1 MB message. */
const quote = (value: string) =>
  value.length > 80 ? `${value.slice(0, 80)}… (${value.length} characters)` : value;

export function clusterPrefix(cluster: string): string {
  return `${FORMAT_PREFIX}/${cluster}/`;
}

export function snapshotPrefix(cluster: string, startTs: Micros, backupId: string): string {
  return `${clusterPrefix(cluster)}snapshots/${formatKeyTime(startTs)}-${backupId}/`;
}

export function manifestKey(snapshot: string): string {
  return `${snapshot}manifest.json`;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `<snapshot>/<table>/<segment>-<part>.json.gz`, fixed width so listing order is scan order. */
export function chunkKey(snapshot: string, table: string, segment: number, part: number): string {
  return `${snapshot}${table}/${pad(segment, 6)}-${pad(part, 6)}.json.gz`;
}

/**
 * Where a segment invocation records the chunks it wrote, for finalize to gather. Kept out of
 * the table folders so each `<snapshot>/<table>/` prefix holds only DynamoDB-export data.
 */
export function partReportKey(snapshot: string, table: string, segment: number, firstPart: number): string {
  return `${snapshot}_parts/${table}/${pad(segment, 6)}-${pad(firstPart, 6)}.json`;
}

export function partReportPrefix(snapshot: string): string {
  return `${snapshot}_parts/`;
}

export function logKey(
  cluster: string,
  table: string,
  changeTs: Micros,
  shardId: string,
  firstSequence: string,
): string {
  return `${clusterPrefix(cluster)}logs/${table}/${formatHourBucket(changeTs)}/${shardId}-${firstSequence}.json.gz`;
}

export interface ParsedSnapshotKey {
  cluster: string;
  startTs: Micros;
  backupId: string;
  rest: string;
}

export function parseSnapshotKey(key: string): ParsedSnapshotKey {
  const match = /^v1\/([^/]+)\/snapshots\/(\d{8}T\d{6}\.\d{6}Z)-([^/]+)\/(.*)$/.exec(key);
  if (!match)
    throw new InvalidInputError(
      'snapshot key',
      `v1/<cluster>/snapshots/<startTs>-<backupId>/…, got "${key}"`,
    );
  const [, cluster = '', ts = '', backupId = '', rest = ''] = match;
  return { cluster, startTs: parseKeyTime(ts), backupId, rest };
}
