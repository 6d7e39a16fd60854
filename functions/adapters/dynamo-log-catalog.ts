import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Item } from '../core/dynamo-json';
import { InvalidInputError } from '../core/errors';
import { compareSequenceNumbers } from '../core/log-format';
import {
  type ClusterCheckpoint,
  clusterCheckpoint,
  type GapRecord,
  gapRecord,
  LOG_SCHEMA_VERSION,
  type LogObjectRecord,
  logObjectRecord,
  type ShardCheckpoint,
  type ShardHold,
  shardCheckpoint,
  shardHold,
} from '../core/log-model';
import { formatHourBucket, type Micros } from '../core/time';
import type { LogCatalog, ShardAdvance, ShardClosure } from './log-catalog';
import { BatchTableWriter, type BatchWriterOptions } from './table-writer';

/**
 * Sort keys under the cluster's `pk` (`CLUSTER#<name>`, shared with the cluster and its
 * backups). Log objects sort by table, then UTC hour of their changes, then shard and first
 * sequence number, so a time window is one Query range plus a filter on minTs/maxTs.
 */
const pkOf = (cluster: string) => `CLUSTER#${cluster}`;
const SK = {
  shard: (shardId: string) => `SHARD#${shardId}`,
  hold: (shardId: string, seq: string) => `HOLD#${shardId}#${seq}`,
  gap: (gapId: string) => `GAP#${gapId}`,
  /** From the object key `v1/<cluster>/logs/<table>/<hour>/<shard>-<seq>.json.gz`. */
  log: (key: string) => {
    const match = /^v1\/[^/]+\/logs\/([^/]+)\/(\d{8}T\d{2})\/([^/]+)\.json\.gz$/.exec(key);
    if (!match)
      throw new InvalidInputError('log object key', `v1/<cluster>/logs/<table>/<hour>/…, got "${key}"`);
    return `LOG#${match[1]}#${match[2]}#${match[3]}`;
  },
  checkpoint: 'CHECKPOINT',
};

/** Kinesis sequence numbers (decimal, up to 129 digits) padded so string order is numeric order. */
const sequenceKey = (sequenceNumber: string) => sequenceNumber.padStart(130, '0');

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** `SET #a = :a, …` with every attribute name aliased (several, like `cluster`, are reserved words). */
function setExpression(fields: Record<string, unknown>, ifNotExists: string[] = []) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(
      ifNotExists.includes(name) ? `#${name} = if_not_exists(#${name}, :${name})` : `#${name} = :${name}`,
    );
  }
  return { sets, names, values };
}

/** The log catalog in the catalog table (string keys `pk`, `sk`). */
export class DynamoLogCatalog implements LogCatalog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** For `deleteLogObjects` (concurrency, backoff). */
    private readonly writerOptions: BatchWriterOptions = {},
  ) {}

  async getShardCheckpoint(cluster: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    const item = await this.get(cluster, SK.shard(shardId));
    return item ? shardCheckpoint.parse(item) : undefined;
  }

  async listShardCheckpoints(cluster: string): Promise<ShardCheckpoint[]> {
    return (await this.query(cluster, 'SHARD#')).map((item) => shardCheckpoint.parse(item));
  }

  async advanceShard(advance: ShardAdvance): Promise<boolean> {
    const { sets, names, values } = setExpression(
      {
        entity: 'shardCheckpoint',
        schemaVersion: LOG_SCHEMA_VERSION,
        cluster: advance.cluster,
        streamName: advance.streamName,
        shardId: advance.shardId,
        shippedTs: advance.shippedTs,
        lastSequenceNumber: advance.lastSequenceNumber,
        lastSequenceKey: advance.lastSequenceNumber && sequenceKey(advance.lastSequenceNumber),
        parentShardIds: advance.parentShardIds,
        closed: false,
        updatedAt: advance.updatedAt,
      },
      ['parentShardIds', 'closed'],
    );
    // Same shippedTs with a later record: lastSequenceNumber alone moves forward.
    let condition = advance.lastSequenceNumber
      ? '(attribute_not_exists(pk) OR #shippedTs < :shippedTs OR (#shippedTs = :shippedTs AND (attribute_not_exists(#lastSequenceKey) OR #lastSequenceKey < :lastSequenceKey)))'
      : '(attribute_not_exists(pk) OR #shippedTs < :shippedTs)';
    if (advance.ifLastSequenceNumber === null) {
      names['#lastSequenceNumber'] = 'lastSequenceNumber';
      condition += ' AND attribute_not_exists(#lastSequenceNumber)';
    } else if (advance.ifLastSequenceNumber !== undefined) {
      names['#lastSequenceNumber'] = 'lastSequenceNumber';
      values[':seen'] = advance.ifLastSequenceNumber;
      condition += ' AND #lastSequenceNumber = :seen';
    }
    return this.conditionalUpdate(advance.cluster, SK.shard(advance.shardId), sets, names, values, condition);
  }

  async markShardClosed(closure: ShardClosure): Promise<void> {
    const { sets, names, values } = setExpression(
      {
        entity: 'shardCheckpoint',
        schemaVersion: LOG_SCHEMA_VERSION,
        cluster: closure.cluster,
        streamName: closure.streamName,
        shardId: closure.shardId,
        parentShardIds: closure.parentShardIds,
        shippedTs: 0,
        closed: true,
        endingSequenceNumber: closure.endingSequenceNumber,
        closedAt: closure.closedAt,
        updatedAt: closure.closedAt,
      },
      ['parentShardIds', 'shippedTs', 'endingSequenceNumber', 'closedAt', 'updatedAt'],
    );
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: pkOf(closure.cluster), sk: SK.shard(closure.shardId) }),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
      }),
    );
  }

  async putHold(hold: ShardHold): Promise<void> {
    await this.put(hold.cluster, SK.hold(hold.shardId, hold.sequenceNumber), 'shardHold', hold);
  }

  async removeHold(cluster: string, shardId: string, sequenceNumber: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: pkOf(cluster), sk: SK.hold(shardId, sequenceNumber) }),
      }),
    );
  }

  async listHolds(cluster: string): Promise<ShardHold[]> {
    return (await this.query(cluster, 'HOLD#'))
      .map((item) => shardHold.parse(item))
      .sort(
        (a, b) =>
          a.shardId.localeCompare(b.shardId) || compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber),
      );
  }

  async recordGap(gap: GapRecord): Promise<boolean> {
    try {
      await this.put(gap.cluster, SK.gap(gap.gapId), 'gap', gap, 'attribute_not_exists(pk)');
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listGaps(cluster: string): Promise<GapRecord[]> {
    return (await this.query(cluster, 'GAP#'))
      .map((item) => gapRecord.parse(item))
      .sort((a, b) => a.fromTs - b.fromTs || a.gapId.localeCompare(b.gapId));
  }

  async getLogObject(cluster: string, key: string): Promise<LogObjectRecord | undefined> {
    const item = await this.get(cluster, SK.log(key));
    return item ? logObjectRecord.parse(item) : undefined;
  }

  async putLogObject(object: LogObjectRecord): Promise<void> {
    await this.put(object.cluster, SK.log(object.key), 'logObject', object);
  }

  async listLogObjects(
    cluster: string,
    table: string,
    fromTs: Micros,
    toTs: Micros,
  ): Promise<LogObjectRecord[]> {
    if (fromTs > toTs) return [];
    // An object holds one hour of changes, so overlapping objects sit in the hours from..to;
    // '$' sorts right after '#', closing the range after the last object of hour(to).
    const from = `LOG#${table}#${formatHourBucket(Math.max(0, fromTs))}`;
    const to = `LOG#${table}#${formatHourBucket(Math.max(0, toTs))}$`;
    const objects: LogObjectRecord[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        FilterExpression: '#minTs <= :toTs AND #maxTs >= :fromTs',
        ExpressionAttributeNames: { '#minTs': 'minTs', '#maxTs': 'maxTs' },
        ExpressionAttributeValues: marshall({
          ':pk': pkOf(cluster),
          ':from': from,
          ':to': to,
          ':fromTs': fromTs,
          ':toTs': toTs,
        }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) objects.push(logObjectRecord.parse(strip(item)));
    }
    return objects;
  }

  /**
   * BatchWriteItem DeleteRequests, 25 a call, through `BatchTableWriter` (UnprocessedItems resent
   * with exponential backoff and full jitter; it gives up with `WriteThrottledError`). Every key
   * is checked before the first write; duplicates are dropped (BatchWriteItem rejects a call
   * naming one key twice).
   */
  async deleteLogObjects(cluster: string, keys: string[]): Promise<void> {
    const sks = [...new Set(keys.map((key) => SK.log(key)))];
    if (sks.length === 0) return;
    const writer = new BatchTableWriter(this.client, this.tableName, this.writerOptions);
    for (const sk of sks) await writer.delete(marshall({ pk: pkOf(cluster), sk }) as Item);
    await writer.flush();
  }

  async getClusterCheckpoint(cluster: string): Promise<ClusterCheckpoint | undefined> {
    const item = await this.get(cluster, SK.checkpoint);
    return item ? clusterCheckpoint.parse(item) : undefined;
  }

  async advanceClusterCheckpoint(checkpoint: ClusterCheckpoint): Promise<boolean> {
    const { sets, names, values } = setExpression({ entity: 'clusterCheckpoint', ...checkpoint });
    return this.conditionalUpdate(
      checkpoint.cluster,
      SK.checkpoint,
      sets,
      names,
      values,
      'attribute_not_exists(pk) OR #checkpoint < :checkpoint',
    );
  }

  private async conditionalUpdate(
    cluster: string,
    sk: string,
    sets: string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
    condition: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: pkOf(cluster), sk }),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async put(cluster: string, sk: string, entity: string, record: object, condition?: string) {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ pk: pkOf(cluster), sk, entity, ...record }, { removeUndefinedValues: true }),
        ConditionExpression: condition,
      }),
    );
  }

  private async get(cluster: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: pkOf(cluster), sk }),
        ConsistentRead: true,
      }),
    );
    return Item ? strip(Item) : undefined;
  }

  private async query(cluster: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': pkOf(cluster), ':prefix': prefix }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) items.push(strip(item));
    return items;
  }
}

function strip(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = unmarshall(item as never);
  return rest;
}
