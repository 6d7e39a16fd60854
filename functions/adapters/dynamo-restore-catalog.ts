import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StaleStateError } from '../core/errors';
import {
  type LoadUnitProgress,
  type ReplayUnitProgress,
  type RestoreJob,
  type RestorePhase,
  restoreJob,
} from '../core/restore-model';
import type { Micros } from '../core/time';
import { type CatalogUpdate, catalogUpdateExpressions } from './catalog-update';
import type { RestoreCatalog, RestoreOwner } from './restore-catalog';

const jobKey = (clusterName: string, restoreId: string) => ({
  pk: `CLUSTER#${clusterName}`,
  sk: `RESTORE#${restoreId}`,
});
/** One item per target table name, whatever the cluster: names are account-wide. */
const targetKey = (table: string) => ({ pk: `TARGET#${table}`, sk: 'TARGET' });

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;
const options = { removeUndefinedValues: true, convertClassInstanceToMap: true };
/** Progress is recorded only while the job runs. */
const WHILE_RUNNING = { status: 'RUNNING' };

function parseJob(item: Record<string, unknown>): RestoreJob {
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = unmarshall(item as never);
  return restoreJob.parse(rest);
}

/** Restore jobs in the catalog table (string keys `pk`, `sk`). */
export class DynamoRestoreCatalog implements RestoreCatalog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async createRestore(job: RestoreJob): Promise<RestoreJob> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...jobKey(job.clusterName, job.restoreId), entity: 'restore', ...job }, options),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return job;
    } catch (error) {
      if (isConditionFailure(error))
        throw new StaleStateError(`restore ${job.restoreId}`, 'new', { cause: error });
      throw error;
    }
  }

  async getRestore(clusterName: string, restoreId: string): Promise<RestoreJob | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(jobKey(clusterName, restoreId)),
        ConsistentRead: true,
      }),
    );
    return Item ? parseJob(Item) : undefined;
  }

  async listRestores(clusterName: string): Promise<RestoreJob[]> {
    const jobs: RestoreJob[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': `CLUSTER#${clusterName}`, ':prefix': 'RESTORE#' }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) jobs.push(parseJob(item));
    return jobs.sort((a, b) => b.requestedAt - a.requestedAt);
  }

  async setExecution(clusterName: string, restoreId: string, executionArn: string): Promise<void> {
    await this.update(clusterName, restoreId, { set: { executionArn } });
  }

  async startPhase(clusterName: string, restoreId: string, phase: RestorePhase, total: number, at: Micros) {
    await this.update(clusterName, restoreId, {
      under: ['phases', phase],
      set: { status: 'RUNNING', total },
      keep: { startedAt: at },
      expect: WHILE_RUNNING,
    });
  }

  async finishPhase(clusterName: string, restoreId: string, phase: RestorePhase, at: Micros) {
    await this.update(clusterName, restoreId, {
      under: ['phases', phase],
      set: { status: 'DONE', finishedAt: at },
      expect: WHILE_RUNNING,
    });
  }

  async recordCreatedTable(clusterName: string, restoreId: string, table: string) {
    try {
      await this.update(clusterName, restoreId, {
        appendOnce: { createdTables: table },
        expect: WHILE_RUNNING,
      });
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error;
      const job = await this.getRestore(clusterName, restoreId);
      if (job?.status !== 'RUNNING') throw error;
      // Already listed: nothing to do.
    }
  }

  async recordLoadUnit(clusterName: string, restoreId: string, unitId: string, progress: LoadUnitProgress) {
    await this.recordUnit(clusterName, restoreId, 'loadUnits', unitId, progress);
  }

  async recordReplayUnit(
    clusterName: string,
    restoreId: string,
    unitId: string,
    progress: ReplayUnitProgress,
  ) {
    await this.recordUnit(clusterName, restoreId, 'replayUnits', unitId, progress);
  }

  async completeRestore(
    clusterName: string,
    restoreId: string,
    result: NonNullable<RestoreJob['result']>,
    at: Micros,
  ): Promise<RestoreJob> {
    return this.finish(clusterName, restoreId, { status: 'COMPLETED', result, finishedAt: at });
  }

  async failRestore(
    clusterName: string,
    restoreId: string,
    failure: { error: string; cause: string },
    at: Micros,
  ): Promise<RestoreJob> {
    return this.finish(clusterName, restoreId, { status: 'FAILED', failure, finishedAt: at });
  }

  async resumeRestore(clusterName: string, restoreId: string, attempt: number): Promise<RestoreJob> {
    return this.transition(
      clusterName,
      restoreId,
      {
        set: { status: 'RUNNING', attempt },
        remove: ['failure', 'finishedAt'],
        expect: { status: 'FAILED', attempt: attempt - 1 },
      },
      (job) => job.status === 'RUNNING' && job.attempt === attempt,
    );
  }

  async reserveTarget(
    table: string,
    owner: RestoreOwner,
    replacing?: RestoreOwner,
  ): Promise<RestoreOwner | undefined> {
    const values: Record<string, unknown> = { ':c': owner.clusterName, ':r': owner.restoreId };
    let condition = 'attribute_not_exists(pk) OR (#c = :c AND #r = :r)';
    if (replacing) {
      values[':oc'] = replacing.clusterName;
      values[':or'] = replacing.restoreId;
      condition += ' OR (#c = :oc AND #r = :or)';
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...targetKey(table), entity: 'restoreTarget', table, ...owner }),
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#c': 'clusterName', '#r': 'restoreId' },
          ExpressionAttributeValues: marshall(values),
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall(targetKey(table)),
          ConsistentRead: true,
        }),
      );
      const holder = Item ? (unmarshall(Item as never) as RestoreOwner) : undefined;
      return holder ? { clusterName: holder.clusterName, restoreId: holder.restoreId } : { ...owner };
    }
  }

  /** Overwrite one unit's progress in the job's `units` map, while the job runs. */
  private recordUnit(
    clusterName: string,
    restoreId: string,
    units: 'loadUnits' | 'replayUnits',
    unitId: string,
    progress: LoadUnitProgress | ReplayUnitProgress,
  ) {
    return this.update(clusterName, restoreId, {
      under: [units],
      set: { [unitId]: progress },
      expect: WHILE_RUNNING,
    });
  }

  /** RUNNING → `fields.status` with `fields`; idempotent when already there. */
  private finish(
    clusterName: string,
    restoreId: string,
    fields: Partial<RestoreJob> & { status: 'COMPLETED' | 'FAILED' },
  ): Promise<RestoreJob> {
    return this.transition(
      clusterName,
      restoreId,
      { set: fields, expect: { status: 'RUNNING' } },
      (job) => job.status === fields.status,
    );
  }

  /** The update, or `StaleStateError` when its condition (by default: the job is RUNNING) fails. */
  private async update(
    clusterName: string,
    restoreId: string,
    update: CatalogUpdate,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(jobKey(clusterName, restoreId)),
          ...catalogUpdateExpressions(update),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes;
    } catch (error) {
      if (isConditionFailure(error))
        throw new StaleStateError(`restore ${restoreId}`, 'RUNNING', { cause: error });
      throw error;
    }
  }

  /** A conditional status change; on a lost condition, `alreadyDone` tells a retry from a conflict. */
  private async transition(
    clusterName: string,
    restoreId: string,
    update: CatalogUpdate & { expect: { status: RestoreJob['status'] } },
    alreadyDone: (job: RestoreJob) => boolean,
  ): Promise<RestoreJob> {
    try {
      return parseJob((await this.update(clusterName, restoreId, update)) ?? {});
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error;
      const current = await this.getRestore(clusterName, restoreId);
      if (current && alreadyDone(current)) return current;
      throw new StaleStateError(`restore ${restoreId}`, update.expect.status, { cause: error });
    }
  }
}
