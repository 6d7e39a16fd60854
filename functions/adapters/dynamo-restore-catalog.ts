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
import type { RestoreCatalog, RestoreOwner } from './restore-catalog';

const jobKey = (clusterName: string, restoreId: string) => ({
  pk: `CLUSTER#${clusterName}`,
  sk: `RESTORE#${restoreId}`,
});
/** One item per target table name, whatever the cluster: names are account-wide. */
const targetKey = (table: string) => ({ pk: `TARGET#${table}`, sk: 'TARGET' });

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;
const options = { removeUndefinedValues: true, convertClassInstanceToMap: true };

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
    await this.update(
      clusterName,
      restoreId,
      'SET #arn = :arn',
      { '#arn': 'executionArn' },
      { ':arn': executionArn },
      'attribute_exists(pk)',
    );
  }

  async startPhase(clusterName: string, restoreId: string, phase: RestorePhase, total: number, at: Micros) {
    await this.whileRunning(
      clusterName,
      restoreId,
      'SET #phases.#p.#status = :r, #phases.#p.#total = :total, #phases.#p.#startedAt = if_not_exists(#phases.#p.#startedAt, :at)',
      { '#phases': 'phases', '#p': phase, '#total': 'total', '#startedAt': 'startedAt' },
      { ':r': 'RUNNING', ':total': total, ':at': at },
    );
  }

  async finishPhase(clusterName: string, restoreId: string, phase: RestorePhase, at: Micros) {
    await this.whileRunning(
      clusterName,
      restoreId,
      'SET #phases.#p.#status = :d, #phases.#p.#finishedAt = :at',
      { '#phases': 'phases', '#p': phase, '#finishedAt': 'finishedAt' },
      { ':d': 'DONE', ':at': at },
    );
  }

  async recordCreatedTable(clusterName: string, restoreId: string, table: string) {
    try {
      await this.update(
        clusterName,
        restoreId,
        'SET #created = list_append(if_not_exists(#created, :empty), :t)',
        { '#created': 'createdTables' },
        { ':t': [table], ':empty': [], ':running': 'RUNNING', ':one': table },
        '#status = :running AND NOT contains(#created, :one)',
      );
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error;
      const job = await this.getRestore(clusterName, restoreId);
      if (job?.status !== 'RUNNING') throw error;
      // Already listed: nothing to do.
    }
  }

  async recordLoadUnit(clusterName: string, restoreId: string, unitId: string, progress: LoadUnitProgress) {
    await this.whileRunning(
      clusterName,
      restoreId,
      'SET #units.#u = :p',
      { '#units': 'loadUnits', '#u': unitId },
      { ':p': progress },
    );
  }

  async recordReplayUnit(
    clusterName: string,
    restoreId: string,
    unitId: string,
    progress: ReplayUnitProgress,
  ) {
    await this.whileRunning(
      clusterName,
      restoreId,
      'SET #units.#u = :p',
      { '#units': 'replayUnits', '#u': unitId },
      { ':p': progress },
    );
  }

  async completeRestore(
    clusterName: string,
    restoreId: string,
    result: NonNullable<RestoreJob['result']>,
    at: Micros,
  ): Promise<RestoreJob> {
    return this.transition(
      clusterName,
      restoreId,
      'SET #status = :to, #result = :result, #finishedAt = :at',
      { '#result': 'result', '#finishedAt': 'finishedAt' },
      { ':to': 'COMPLETED', ':result': result, ':at': at, ':from': 'RUNNING' },
      '#status = :from',
      (job) => job.status === 'COMPLETED',
    );
  }

  async failRestore(
    clusterName: string,
    restoreId: string,
    failure: { error: string; cause: string },
    at: Micros,
  ): Promise<RestoreJob> {
    return this.transition(
      clusterName,
      restoreId,
      'SET #status = :to, #failure = :failure, #finishedAt = :at',
      { '#failure': 'failure', '#finishedAt': 'finishedAt' },
      { ':to': 'FAILED', ':failure': failure, ':at': at, ':from': 'RUNNING' },
      '#status = :from',
      (job) => job.status === 'FAILED',
    );
  }

  async resumeRestore(clusterName: string, restoreId: string, attempt: number): Promise<RestoreJob> {
    return this.transition(
      clusterName,
      restoreId,
      'SET #status = :to, #attempt = :attempt REMOVE #failure, #finishedAt',
      { '#attempt': 'attempt', '#failure': 'failure', '#finishedAt': 'finishedAt' },
      { ':to': 'RUNNING', ':attempt': attempt, ':previous': attempt - 1, ':from': 'FAILED' },
      '#status = :from AND #attempt = :previous',
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

  private whileRunning(
    clusterName: string,
    restoreId: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ) {
    return this.update(
      clusterName,
      restoreId,
      expression,
      names,
      { ...values, ':running': 'RUNNING' },
      '#status = :running',
    );
  }

  private async update(
    clusterName: string,
    restoreId: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    condition: string,
  ): Promise<Record<string, unknown> | undefined> {
    const allNames =
      condition.includes('#status') || expression.includes('#status')
        ? { ...names, '#status': 'status' }
        : names;
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(jobKey(clusterName, restoreId)),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ...(Object.keys(allNames).length ? { ExpressionAttributeNames: allNames } : {}),
          ExpressionAttributeValues: marshall(values, options),
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
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    condition: string,
    alreadyDone: (job: RestoreJob) => boolean,
  ): Promise<RestoreJob> {
    try {
      return parseJob(
        (await this.update(clusterName, restoreId, expression, names, values, condition)) ?? {},
      );
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error;
      const current = await this.getRestore(clusterName, restoreId);
      if (current && alreadyDone(current)) return current;
      throw new StaleStateError(`restore ${restoreId}`, String(values[':from']), { cause: error });
    }
  }
}
