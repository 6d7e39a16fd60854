import { Cron } from 'croner';
import { DynamoCatalog } from '../functions/adapters/dynamo-catalog';
import { dynamoClient, type LocalConfig } from './clients';
import type { LocalFunctionRegistry } from './control-plane';

/**
 * What EventBridge does on AWS, for `rewind local start`: each cluster's backup schedule (cron +
 * time zone, evaluated by croner) invokes start-backup with kind `auto`; advance-checkpoint runs
 * every second (every minute on AWS — locally faster so the checkpoint lag stays seconds); the
 * retention sweep runs daily at 03:00 UTC with `confirm`. Clusters are re-read every 10 s.
 */
export interface LocalSchedulesOptions {
  checkpointEveryMs?: number;
  discoveryMs?: number;
  sweepCron?: string;
  log?: (line: string) => void;
}

export function startLocalSchedules(
  cfg: LocalConfig,
  registry: LocalFunctionRegistry,
  opts: LocalSchedulesOptions = {},
) {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const catalog = new DynamoCatalog(dynamoClient(cfg), cfg.catalogTable);
  const jobs = new Map<string, { key: string; cron: Cron }>();
  const inFlight = new Set<Promise<unknown>>();
  let lastError = '';

  const call = (name: string, event: unknown) => {
    const fn = registry[name];
    if (!fn) return;
    const running = fn(event)
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
    if (checkpointBusy || !registry['advance-checkpoint']) return;
    checkpointBusy = true;
    const fn = registry['advance-checkpoint'];
    fn({})
      .catch(() => undefined)
      .finally(() => {
        checkpointBusy = false;
      });
  }, opts.checkpointEveryMs ?? 1_000);

  const sweep = new Cron(opts.sweepCron ?? '0 3 * * *', { timezone: 'Etc/UTC' }, async () => {
    for (const cluster of await catalog.listClusters())
      call('sweep-retention', { cluster: cluster.clusterName, confirm: true });
  });

  const discover = async () => {
    try {
      const clusters = await catalog.listClusters();
      for (const cluster of clusters) {
        const key = `${cluster.schedule ?? ''}|${cluster.timeZone ?? 'Etc/UTC'}`;
        const current = jobs.get(cluster.clusterName);
        if (current?.key === key) continue;
        current?.cron.stop();
        jobs.delete(cluster.clusterName);
        if (!cluster.schedule) continue;
        const cron = new Cron(cluster.schedule, { timezone: cluster.timeZone ?? 'Etc/UTC' }, () =>
          call('start-backup', { cluster: cluster.clusterName, kind: 'auto' }),
        );
        jobs.set(cluster.clusterName, { key, cron });
        log(
          `schedule: cluster ${cluster.clusterName} backs up on "${cluster.schedule}" (${cluster.timeZone ?? 'UTC'}), next ${cron.nextRun()?.toISOString()}`,
        );
      }
    } catch (error) {
      log(`schedule: reading clusters failed: ${(error as Error).message}`);
    }
  };
  void discover();
  const discoveryTimer = setInterval(() => void discover(), opts.discoveryMs ?? 10_000);

  return {
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
