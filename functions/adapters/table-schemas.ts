import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { TableNotFoundError } from '../core/errors';
import { type TableSchema, tableSchema } from '../core/manifest';

/** DescribeTable, turning "no such table" into `TableNotFoundError`. */
export async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table) throw new TableNotFoundError(tableName);
    return Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) throw new TableNotFoundError(tableName);
    throw error;
  }
}

const throughputOf = (t?: { ReadCapacityUnits?: number; WriteCapacityUnits?: number }) =>
  t?.ReadCapacityUnits && t.WriteCapacityUnits
    ? { ReadCapacityUnits: t.ReadCapacityUnits, WriteCapacityUnits: t.WriteCapacityUnits }
    : undefined;

/** Everything restore needs to recreate the table: keys, indexes, billing mode, TTL. */
export async function readTableSchema(client: DynamoDBClient, tableName: string): Promise<TableSchema> {
  const table = await describeTable(client, tableName);
  const { TimeToLiveDescription: ttl } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const billingMode =
    table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
  return tableSchema.parse({
    tableName,
    keySchema: table.KeySchema,
    attributeDefinitions: table.AttributeDefinitions,
    billingMode,
    provisionedThroughput:
      billingMode === 'PROVISIONED' ? throughputOf(table.ProvisionedThroughput) : undefined,
    globalSecondaryIndexes: (table.GlobalSecondaryIndexes ?? []).map((index) => ({
      indexName: index.IndexName,
      keySchema: index.KeySchema,
      projection: index.Projection ?? { ProjectionType: 'ALL' },
      provisionedThroughput:
        billingMode === 'PROVISIONED' ? throughputOf(index.ProvisionedThroughput) : undefined,
    })),
    localSecondaryIndexes: (table.LocalSecondaryIndexes ?? []).map((index) => ({
      indexName: index.IndexName,
      keySchema: index.KeySchema,
      projection: index.Projection ?? { ProjectionType: 'ALL' },
    })),
    ttl: {
      enabled: ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING',
      attributeName: ttl?.AttributeName,
    },
    tableClass: table.TableClassSummary?.TableClass,
  });
}
