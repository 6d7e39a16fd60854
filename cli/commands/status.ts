import type { Command } from 'commander';
import { nowMicros } from '../../functions/adapters/clock';
import { DynamoLogCatalog } from '../../functions/adapters/dynamo-log-catalog';
import { backupAgeSeconds } from '../../functions/core/backup-age';
import { rpoSeconds } from '../../functions/core/checkpoint';
import { nextRun } from '../../functions/core/cron-pattern';
import { ClusterNotFoundError } from '../../functions/core/errors';
import { restorableWindow } from '../../functions/core/restore-plan';
import { act, type CliContext, type CommandGroup } from '../context';
import { fields, iso, table } from '../format';
import type { Target } from '../target';
import * as parse from '../validate';

/** `rewind status --cluster C`: the log backup and PITR state of a cluster (CLI.md). */
export const statusCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  program
    .command('status')
    .description('log backup and point-in-time restore state of a cluster: checkpoint, RPO, window, gaps')
    .requiredOption('--cluster <name>', 'cluster name', parse.name)
    .action(act(ctx, (options: { cluster: string }) => status(ctx, options.cluster)));
};

export async function clusterStatus(target: Target, tableName: string, cluster: string) {
  const record = await target.catalog.getCluster(cluster);
  if (!record) throw new ClusterNotFoundError(cluster);
  const now = nowMicros();
  const logCatalog = new DynamoLogCatalog(target.dynamodb, tableName);
  const [checkpoint, shards, holds, gaps, backups] = await Promise.all([
    logCatalog.getClusterCheckpoint(cluster),
    logCatalog.listShardCheckpoints(cluster),
    logCatalog.listHolds(cluster),
    logCatalog.listGaps(cluster),
    target.catalog.listBackups(cluster),
  ]);
  const live = backups.filter((b) => b.status !== 'DELETED');
  const last = live.reduce<(typeof live)[number] | undefined>(
    (newest, b) => (!newest || (b.startTs ?? 0) > (newest.startTs ?? 0) ? b : newest),
    undefined,
  );
  const window = restorableWindow(live, checkpoint?.checkpoint);
  return {
    cluster,
    checkpoint: iso(checkpoint?.checkpoint),
    rpoSeconds: checkpoint ? rpoSeconds(checkpoint.checkpoint, now) : null,
    pitrWindow: { earliest: iso(window.earliest), latest: iso(window.latest) },
    lastBackup: last ? { backupId: last.backupId, status: last.status, endTs: iso(last.endTs) } : null,
    // What the "backup missing" alarm watches (core/backup-age.ts).
    backupAgeSeconds: backupAgeSeconds(backups, Date.parse(record.createdAt) * 1000, now),
    schedule: record.schedule
      ? {
          cron: record.schedule,
          timeZone: record.timeZone ?? 'Etc/UTC',
          nextRun: iso(nextRun(record.schedule, record.timeZone ?? 'Etc/UTC', now)),
        }
      : null,
    gaps: gaps.map((g) => ({
      gapId: g.gapId,
      table: g.table ?? null,
      fromTs: iso(g.fromTs),
      toTs: iso(g.toTs),
      records: g.records,
      reason: g.reason,
    })),
    shards: shards.map((s) => ({ shardId: s.shardId, shippedTs: iso(s.shippedTs), closed: s.closed })),
    holds: holds.length,
  };
}

export type StatusView = Awaited<ReturnType<typeof clusterStatus>>;

function statusText(v: StatusView): string {
  const lines = [
    fields([
      ['cluster', v.cluster],
      ['checkpoint', v.checkpoint ?? 'none yet'],
      ['rpo', v.rpoSeconds === null ? null : `${v.rpoSeconds.toFixed(1)} s`],
      ['restorable from', v.pitrWindow.earliest ?? 'no completed backup'],
      ['restorable to', v.pitrWindow.latest],
      [
        'last backup',
        v.lastBackup
          ? `${v.lastBackup.backupId} ${v.lastBackup.status} ${v.lastBackup.endTs ?? ''}`.trim()
          : null,
      ],
      ['backup age', `${(v.backupAgeSeconds / 3600).toFixed(1)} h`],
      [
        'schedule',
        v.schedule
          ? `${v.schedule.cron} (${v.schedule.timeZone}), next ${v.schedule.nextRun ?? 'never'}`
          : null,
      ],
      ['holds', v.holds],
      ['gaps', v.gaps.length],
    ]),
  ];
  if (v.gaps.length > 0)
    lines.push(
      table(
        ['GAP', 'TABLE', 'FROM', 'TO', 'RECORDS', 'REASON'],
        v.gaps.map((g) => [g.gapId, g.table, g.fromTs, g.toTs, g.records, g.reason]),
      ),
    );
  if (v.shards.length > 0)
    lines.push(
      table(
        ['SHARD', 'SHIPPED TO', 'CLOSED'],
        v.shards.map((s) => [s.shardId, s.shippedTs, s.closed ? 'yes' : 'no']),
      ),
    );
  return lines.join('\n');
}

async function status(ctx: CliContext, cluster: string): Promise<void> {
  const target = await ctx.target();
  const view = await clusterStatus(target, target.catalogTableName, cluster);
  ctx.out.result(view, () => statusText(view));
}
