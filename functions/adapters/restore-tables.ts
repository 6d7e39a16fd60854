import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TableNotFoundError } from '../core/errors';
import type { TableSchema } from '../core/manifest';
import { describeTable } from './table-schemas';
import { BatchTableWriter, type BatchWriterOptions, type TableWriter } from './table-writer';

export interface TargetTableInfo {
  /** DynamoDB's TableStatus: CREATING, ACTIVE, UPDATING, DELETING, … */
  status: string;
  /** ACTIVE and every GSI ACTIVE: writes and index maintenance can start. */
  ready: boolean;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
}

/**
 * The restore's view of its target tables. `DynamoTargetTables` is the real one;
 * `MemoryTargetTables` (memory-restore-tables.ts) stands in for it in unit tests.
 */
export interface TargetTables {
  /** `undefined` when the table does not exist. */
  describe(table: string): Promise<TargetTableInfo | undefined>;
  /** True when the table holds no item (strongly consistent). */
  isEmpty(table: string): Promise<boolean>;
  /**
   * Create `table` with `schema`'s keys, attribute definitions, GSIs and LSIs, on-demand.
   * Returns false (and changes nothing) when a table of that name already exists.
   */
  create(table: string, schema: TableSchema, options?: { warmWritesPerSecond?: number }): Promise<boolean>;
  /** Enable TTL on `attributeName`; a no-op when it is already enabled. */
  enableTtl(table: string, attributeName: string): Promise<void>;
  /** Items in the table (strongly consistent parallel Scan with Select COUNT). */
  count(table: string): Promise<number>;
  writer(table: string, options?: BatchWriterOptions): TableWriter;
}

/**
 * Tables are created PAY_PER_REQUEST whatever the source's billing mode: a restore writes as
 * fast as it can and on-demand is never throttled below the table's warm throughput, whereas a
 * provisioned target would cap the restore at its WCU. The source's mode is in the manifest for
 * the operator to switch back after the restore. On AWS a new on-demand table starts at 4,000
 * writes/s; `warmWritesPerSecond` pre-warms it (docs/design.md §8).
 */
export function createTableInput(
  table: string,
  schema: TableSchema,
  options: { warmWritesPerSecond?: number } = {},
): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: schema.keySchema,
    AttributeDefinitions: schema.attributeDefinitions,
    ...(schema.globalSecondaryIndexes.length
      ? {
          GlobalSecondaryIndexes: schema.globalSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: index.keySchema,
            Projection: index.projection,
          })),
        }
      : {}),
    ...(schema.localSecondaryIndexes.length
      ? {
          LocalSecondaryIndexes: schema.localSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: index.keySchema,
            Projection: index.projection,
          })),
        }
      : {}),
    ...(schema.tableClass && schema.tableClass !== 'STANDARD'
      ? { TableClass: schema.tableClass as CreateTableCommandInput['TableClass'] }
      : {}),
    ...(options.warmWritesPerSecond
      ? { WarmThroughput: { WriteUnitsPerSecond: options.warmWritesPerSecond } }
      : {}),
  };
}

export class DynamoTargetTables implements TargetTables {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly countSegments = 4,
  ) {}

  async describe(table: string): Promise<TargetTableInfo | undefined> {
    try {
      const description = await describeTable(this.client, table);
      const status = description.TableStatus ?? 'UNKNOWN';
      const indexesReady = (description.GlobalSecondaryIndexes ?? []).every(
        (i) => i.IndexStatus === 'ACTIVE',
      );
      return {
        status,
        ready: status === 'ACTIVE' && indexesReady,
        keySchema: (description.KeySchema ?? []) as TargetTableInfo['keySchema'],
      };
    } catch (error) {
      if (error instanceof TableNotFoundError) return undefined;
      throw error;
    }
  }

  async isEmpty(table: string): Promise<boolean> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: table,
          Limit: 1,
          ConsistentRead: true,
          ExclusiveStartKey: startKey as never,
        }),
      );
      if ((page.Count ?? 0) > 0) return false;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return true;
  }

  async create(table: string, schema: TableSchema, options: { warmWritesPerSecond?: number } = {}) {
    try {
      await this.client.send(new CreateTableCommand(createTableInput(table, schema, options)));
      return true;
    } catch (error) {
      if (error instanceof ResourceInUseException) return false;
      throw error;
    }
  }

  async enableTtl(table: string, attributeName: string): Promise<void> {
    const { TimeToLiveDescription: ttl } = await this.client.send(
      new DescribeTimeToLiveCommand({ TableName: table }),
    );
    if (ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') return;
    await this.client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName },
      }),
    );
  }

  async count(table: string): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: this.countSegments }, async (_, segment) => {
        let total = 0;
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new ScanCommand({
              TableName: table,
              Select: 'COUNT',
              Segment: segment,
              TotalSegments: this.countSegments,
              ConsistentRead: true,
              ExclusiveStartKey: startKey as never,
            }),
          );
          total += page.Count ?? 0;
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        return total;
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  writer(table: string, options?: BatchWriterOptions): TableWriter {
    return new BatchTableWriter(this.client, table, options);
  }
}
