import { StaleStateError } from '../core/errors';
import type { LoadUnitProgress, ReplayUnitProgress, RestoreJob, RestorePhase } from '../core/restore-model';
import type { Micros } from '../core/time';
import type { RestoreCatalog, RestoreOwner } from './restore-catalog';

/** In-memory restore catalog with the same contract as `DynamoRestoreCatalog`, for tests. */
export class MemoryRestoreCatalog implements RestoreCatalog {
  private readonly jobs = new Map<string, RestoreJob>();
  private readonly targets = new Map<string, RestoreOwner>();

  async createRestore(job: RestoreJob): Promise<RestoreJob> {
    const key = `${job.clusterName}/${job.restoreId}`;
    if (this.jobs.has(key)) throw new StaleStateError(`restore ${job.restoreId}`, 'new');
    this.jobs.set(key, structuredClone(job));
    return structuredClone(job);
  }

  async getRestore(clusterName: string, restoreId: string): Promise<RestoreJob | undefined> {
    return structuredClone(this.jobs.get(`${clusterName}/${restoreId}`));
  }

  async listRestores(clusterName: string): Promise<RestoreJob[]> {
    return [...this.jobs.values()]
      .filter((j) => j.clusterName === clusterName)
      .sort((a, b) => b.requestedAt - a.requestedAt)
      .map((j) => structuredClone(j));
  }

  async setExecution(clusterName: string, restoreId: string, executionArn: string): Promise<void> {
    const job = this.jobs.get(`${clusterName}/${restoreId}`);
    if (job) job.executionArn = executionArn;
  }

  async startPhase(clusterName: string, restoreId: string, phase: RestorePhase, total: number, at: Micros) {
    const job = this.running(clusterName, restoreId);
    const current = job.phases[phase];
    job.phases[phase] = { ...current, status: 'RUNNING', total, startedAt: current.startedAt ?? at };
  }

  async finishPhase(clusterName: string, restoreId: string, phase: RestorePhase, at: Micros) {
    const job = this.running(clusterName, restoreId);
    job.phases[phase] = { ...job.phases[phase], status: 'DONE', finishedAt: at };
  }

  async recordCreatedTable(clusterName: string, restoreId: string, table: string) {
    const job = this.running(clusterName, restoreId);
    if (!job.createdTables.includes(table)) job.createdTables.push(table);
  }

  async recordLoadUnit(clusterName: string, restoreId: string, unitId: string, progress: LoadUnitProgress) {
    this.running(clusterName, restoreId).loadUnits[unitId] = { ...progress };
  }

  async recordReplayUnit(
    clusterName: string,
    restoreId: string,
    unitId: string,
    progress: ReplayUnitProgress,
  ) {
    this.running(clusterName, restoreId).replayUnits[unitId] = { ...progress };
  }

  async completeRestore(
    clusterName: string,
    restoreId: string,
    result: NonNullable<RestoreJob['result']>,
    at: Micros,
  ): Promise<RestoreJob> {
    return this.finish(clusterName, restoreId, 'COMPLETED', {
      result: structuredClone(result),
      finishedAt: at,
    });
  }

  async failRestore(
    clusterName: string,
    restoreId: string,
    failure: { error: string; cause: string },
    at: Micros,
  ): Promise<RestoreJob> {
    return this.finish(clusterName, restoreId, 'FAILED', { failure: { ...failure }, finishedAt: at });
  }

  async resumeRestore(clusterName: string, restoreId: string, attempt: number): Promise<RestoreJob> {
    const job = this.jobs.get(`${clusterName}/${restoreId}`);
    if (job?.status === 'RUNNING' && job.attempt === attempt) return structuredClone(job);
    if (job?.status !== 'FAILED' || job.attempt + 1 !== attempt)
      throw new StaleStateError(`restore ${restoreId}`, `FAILED at attempt ${attempt - 1}`);
    job.status = 'RUNNING';
    job.attempt = attempt;
    job.failure = undefined;
    job.finishedAt = undefined;
    return structuredClone(job);
  }

  async reserveTarget(
    table: string,
    owner: RestoreOwner,
    replacing?: RestoreOwner,
  ): Promise<RestoreOwner | undefined> {
    const holder = this.targets.get(table);
    const same = (a?: RestoreOwner, b?: RestoreOwner) =>
      a !== undefined && b !== undefined && a.clusterName === b.clusterName && a.restoreId === b.restoreId;
    if (!holder || same(holder, owner) || same(holder, replacing)) {
      this.targets.set(table, { ...owner });
      return undefined;
    }
    return { ...holder };
  }

  /** RUNNING → `to` with `fields`; idempotent when already `to`. */
  private finish(
    clusterName: string,
    restoreId: string,
    to: 'COMPLETED' | 'FAILED',
    fields: Partial<RestoreJob>,
  ): RestoreJob {
    const job = this.jobs.get(`${clusterName}/${restoreId}`);
    if (job?.status === to) return structuredClone(job);
    if (job?.status !== 'RUNNING') throw new StaleStateError(`restore ${restoreId}`, 'RUNNING');
    Object.assign(job, { status: to, ...fields });
    return structuredClone(job);
  }

  private running(clusterName: string, restoreId: string): RestoreJob {
    const job = this.jobs.get(`${clusterName}/${restoreId}`);
    if (job?.status !== 'RUNNING') throw new StaleStateError(`restore ${restoreId}`, 'RUNNING');
    return job;
  }
}
