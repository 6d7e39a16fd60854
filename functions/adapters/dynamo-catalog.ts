import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  paginateScan,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  alreadyTransitioned,
  type BackupTransition,
  staleTransitionError,
  transitionSources,
} from '../core/backup-transitions';
import {
  type BackupCompletion,
  type BackupRecord,
  backupRecord,
  type ClusterRecord,
  clusterRecord,
} from '../core/catalog-model';
import { BackupAlreadyRunningError, ClusterNotFoundError, StaleStateError } from '../core/errors';
import type { Catalog } from './catalog';
import { catalogUpdateExpressions } from './catalog-update';

const clusterKey = (clusterName: string) => ({ pk: `CLUSTER#${clusterName}`, sk: 'CLUSTER' });
const backupKey = (clusterName: string, backupId: string) => ({
  pk: `CLUSTER#${clusterName}`,
  sk: `BACKUP#${backupId}`,
});

const toItem = (key: Record<string, string>, entity: string, record: object) =>
  marshall({ ...key, entity, ...record }, { removeUndefinedValues: true });

function fromItem<T>(parse: (value: unknown) => T, item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = unmarshall(item as never);
  return parse(rest);
}

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** The catalog in one DynamoDB table with string keys `pk` and `sk`. */
export class DynamoCatalog implements Catalog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async putCluster(cluster: ClusterRecord): Promise<void> {
    const existing = await this.getCluster(cluster.clusterName);
    const record = { ...cluster, runningBackupId: existing?.runningBackupId };
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: toItem(clusterKey(cluster.clusterName), 'cluster', record),
      }),
    );
  }

  async getCluster(clusterName: string): Promise<ClusterRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(clusterKey(clusterName)),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem((v) => clusterRecord.parse(v), Item) : undefined;
  }

  async listClusters(): Promise<ClusterRecord[]> {
    const clusters: ClusterRecord[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: marshall({ ':sk': 'CLUSTER' }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) clusters.push(fromItem((v) => clusterRecord.parse(v), item));
    }
    return clusters.sort((a, b) => a.clusterName.localeCompare(b.clusterName));
  }

  async lockCluster(clusterName: string, backupId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(clusterKey(clusterName)),
          UpdateExpression: 'SET runningBackupId = :id',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(runningBackupId) OR runningBackupId = :id)',
          ExpressionAttributeValues: marshall({ ':id': backupId }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const cluster = await this.getCluster(clusterName);
      if (!cluster) throw new ClusterNotFoundError(clusterName);
      throw new BackupAlreadyRunningError(clusterName, cluster.runningBackupId ?? 'unknown');
    }
  }

  async unlockCluster(clusterName: string, backupId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(clusterKey(clusterName)),
          UpdateExpression: 'REMOVE runningBackupId',
          ConditionExpression: 'runningBackupId = :id',
          ExpressionAttributeValues: marshall({ ':id': backupId }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async beginBackup(backup: BackupRecord): Promise<BackupRecord> {
    const { clusterName, backupId, status: _status, schemaVersion: _v, ...fields } = backup;
    const names: Record<string, string> = { '#status': 'status', '#schemaVersion': 'schemaVersion' };
    const values: Record<string, unknown> = {
      ':running': 'RUNNING',
      ':v': backup.schemaVersion,
      ':c': clusterName,
      ':b': backupId,
    };
    const sets = ['#status = :running', '#schemaVersion = :v', 'clusterName = :c', 'backupId = :b'];
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = if_not_exists(#${name}, :${name})`);
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(backupKey(clusterName, backupId)),
          UpdateExpression: `SET entity = :entity, ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :running',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(
            { ...values, ':entity': 'backup' },
            { removeUndefinedValues: true },
          ),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem((v) => backupRecord.parse(v), Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error))
        throw new StaleStateError(`backup ${backupId}`, 'RUNNING', { cause: error });
      throw error;
    }
  }

  async getBackup(clusterName: string, backupId: string): Promise<BackupRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(backupKey(clusterName, backupId)),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem((v) => backupRecord.parse(v), Item) : undefined;
  }

  async listBackups(clusterName: string): Promise<BackupRecord[]> {
    const backups: BackupRecord[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': `CLUSTER#${clusterName}`, ':prefix': 'BACKUP#' }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) backups.push(fromItem((v) => backupRecord.parse(v), item));
    }
    return backups.sort((a, b) => b.requestedAt - a.requestedAt);
  }

  async completeBackup(
    clusterName: string,
    backupId: string,
    completion: BackupCompletion,
  ): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'COMPLETED', fields: completion });
  }

  async failBackup(
    clusterName: string,
    backupId: string,
    failure: { error: string; cause: string },
  ): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'FAILED', fields: { failure } });
  }

  async markBackupDeleted(clusterName: string, backupId: string, deletedAt: number): Promise<BackupRecord> {
    return this.transition(clusterName, backupId, { to: 'DELETED', fields: { deletedAt } });
  }

  async markBackupPurged(clusterName: string, backupId: string, purgedAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(backupKey(clusterName, backupId)),
          ...catalogUpdateExpressions({ keep: { purgedAt }, expect: { status: 'DELETED' } }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // not DELETED (or gone): nothing to record
    }
  }

  /**
   * Conditional status change, allowed from `transitionSources`. On a lost condition, the stored
   * record tells a retry of the same transition (fine) from a conflicting one (`StaleStateError`).
   */
  private async transition(
    clusterName: string,
    backupId: string,
    transition: BackupTransition,
  ): Promise<BackupRecord> {
    const update = catalogUpdateExpressions({
      set: { status: transition.to, ...transition.fields },
      expect: { status: transitionSources(transition.to) },
    });
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(backupKey(clusterName, backupId)),
          ...update,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem((v) => backupRecord.parse(v), Attributes ?? {});
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.getBackup(clusterName, backupId);
      if (current && alreadyTransitioned(current, transition)) return current;
      throw staleTransitionError(backupId, transition.to, { cause: error });
    }
  }
}
