import { Cron } from 'croner';
import type { Catalog } from '../functions/adapters/catalog';
import { isProtected } from '../functions/core/catalog-model';
import { localCron } from '../functions/core/cron-pattern';
import { formatIsoMicros } from '../functions/core/time';
import type { LocalFunctionRegistry } from './control-plane';
import { invokeLocal } from './sfn-runner';

/**
 * What EventBridge does on AWS, for `rewind local start`: each cluster's backup schedule (cron +
 * time zone, fired by croner exactly when EventBridge Scheduler would — local/cron-pattern.ts)
 * invokes start-backup with kind `auto` and `scheduledAt` (as the `<aws.scheduler.scheduled-time>`
 * context attribute does on AWS, so a duplicate firing is idempotent); advance-checkpoint runs
 * every second (every minute on AWS — locally faster so the checkpoint lag stays seconds); the
 * retention sweep runs daily at 03:00 UTC with `confirm`. Clusters are re-read every 10 s.
 */
export interface LocalSchedulesOptions {
  checkpointEveryMs?: number;
  discoveryMs?: number;
  sweepCron?: string;
  log?: (line: string) => void;
}

/** The minute a 5/6-field cron fired for: croner fires at second 0, perhaps a little late. */
const scheduledMinute = (firedAt: Date) =>
  formatIsoMicros(Math.floor(firedAt.getTime() / 60_000) * 60_000_000);

/** Starts the schedules; `catalog` is where clusters (and their schedules) are read from. */
export function startLocalSchedules(
  catalog: Pick<Catalog, 'listClusters'>,
  registry: LocalFunctionRegistry,
  opts: LocalSchedulesOptions = {},
) {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const jobs = new Map<string, { key: string; cron: Cron }>();
  const inFlight = new Set<Promise<unknown>>();
  let lastError = '';

  const call = (name: string, event: unknown) => {
    const fn = registry[name];
    if (!fn) return;
    const running = invokeLocal(fn, event, name)
      .catch((error: unknown) => {
        const line = `schedule: ${name} failed: ${(error as Error).message}`;
        if (line !== lastError) log(line); // the same failure every second says nothing new
        lastError = line;
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  };

  let checkpointBusy = false;
  const checkpointTimer = setInterval(() => {
    const advance = registry['advance-checkpoint'];
    if (checkpointBusy || !advance) return;
    checkpointBusy = true;
    invokeLocal(advance, {}, 'advance-checkpoint')
      .catch(() => undefined)
      .finally(() => {
        checkpointBusy = false;
      });
  }, opts.checkpointEveryMs ?? 1_000);

  const sweep = new Cron(opts.sweepCron ?? '0 3 * * *', { timezone: 'Etc/UTC' }, async () => {
    try {
      for (const cluster of (await catalog.listClusters()).filter(isProtected))
        call('sweep-retention', { cluster: cluster.clusterName, confirm: true });
    } catch (error) {
      log(`schedule: reading clusters for the sweep failed: ${(error as Error).message}`);
    }
  });

  const schedule = (clusterName: string, expression: string, timeZone: string): Cron | undefined => {
    try {
      const { pattern, yearMatches } = localCron(expression);
      return new Cron(pattern, { timezone: timeZone }, () => {
        const firedAt = new Date();
        if (!yearMatches(firedAt.getUTCFullYear())) return;
        call('start-backup', { cluster: clusterName, kind: 'auto', scheduledAt: scheduledMinute(firedAt) });
      });
    } catch (error) {
      log(`schedule: cluster ${clusterName} has an unusable schedule: ${(error as Error).message}`);
      return undefined;
    }
  };

  const discover = async () => {
    try {
      // A removed cluster's schedules go with it, as its CDK schedules do on AWS.
      const clusters = (await catalog.listClusters()).filter(isProtected);
      const names = new Set(clusters.map((c) => c.clusterName));
      for (const [name, job] of jobs) {
        if (names.has(name)) continue;
        job.cron.stop();
        jobs.delete(name);
      }
      for (const cluster of clusters) {
        const timeZone = cluster.timeZone ?? 'Etc/UTC';
        const key = `${cluster.schedule ?? ''}|${timeZone}`;
        const current = jobs.get(cluster.clusterName);
        if (current?.key === key) continue;
        current?.cron.stop();
        jobs.delete(cluster.clusterName);
        if (!cluster.schedule) continue;
        const cron = schedule(cluster.clusterName, cluster.schedule, timeZone);
        if (!cron) continue;
        jobs.set(cluster.clusterName, { key, cron });
        log(
          `schedule: cluster ${cluster.clusterName} backs up on "${cluster.schedule}" (${timeZone}), next ${cron.nextRun()?.toISOString()}`,
        );
      }
    } catch (error) {
      log(`schedule: reading clusters failed: ${(error as Error).message}`);
    }
  };
  const discovered = discover();
  const discoveryTimer = setInterval(() => void discover(), opts.discoveryMs ?? 10_000);

  return {
    /** Resolves once the first read of the clusters is done. */
    ready: discovered,
    /** Cron jobs per cluster, for status and tests. */
    scheduled: () => [...jobs.entries()].map(([cluster, job]) => ({ cluster, nextRun: job.cron.nextRun() })),
    stop: async () => {
      clearInterval(checkpointTimer);
      clearInterval(discoveryTimer);
      sweep.stop();
      for (const job of jobs.values()) job.cron.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
