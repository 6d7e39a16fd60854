import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DynamoRestoreCatalog } from '../../functions/adapters/dynamo-restore-catalog';
import type { RestoreCatalog } from '../../functions/adapters/restore-catalog';
import { InvalidInputError } from '../../functions/core/errors';
import { RESTORE_REFUSALS, RestoreNotFoundError } from '../../functions/core/restore-errors';
import { PHASES, progressTotals, type RestoreJob } from '../../functions/core/restore-model';
import { parseRestoreTarget } from '../../functions/core/restore-plan';
import { restoreResumeSpec } from '../../functions/restore-resume/spec';
import type { StartedRestore } from '../../functions/start-restore/schema';
import { startRestoreSpec } from '../../functions/start-restore/spec';
import { act, type CliContext, type CommandGroup } from '../context';
import { EXIT_FAILED, RemoteFunctionError } from '../errors';
import { fields, iso, table } from '../format';
import type { Target } from '../target';
import * as parse from '../validate';
import { invokeFunction } from './backup';

const CLUSTER_FLAG = ['--cluster <name>', 'cluster name'] as const;

/** `--to`: an ISO instant, `latest` or `backup:ID` (checked here, resolved by start-restore). */
function restoreTo(value: string): string {
  parseRestoreTarget(value, parse.instant);
  return value;
}

function targetPrefix(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(value))
    throw new InvalidArgumentError('Expected 1-200 characters of [A-Za-z0-9_.-], e.g. restored-.');
  return value;
}

export const restoreCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  const group = program.command('restore').description('point-in-time restore of a cluster into new tables');

  group
    .command('start')
    .description('restore every table (or --tables) to one instant, into new tables named PREFIX+source')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .requiredOption(
      '--to <instant>',
      'ISO-8601 UTC instant, `latest` (the log checkpoint) or backup:ID',
      restoreTo,
    )
    .requiredOption('--target-prefix <prefix>', 'prefix of the new table names, e.g. restored-', targetPrefix)
    .option('--tables <t1,t2>', 'restore only these tables', parse.tableList)
    .option('--wait', 'wait until the restore completes or fails (exit 1 if it fails)')
    .action(act(ctx, (options: StartOptions) => startRestore(ctx, options)));

  group
    .command('describe')
    .description('one restore: status, restore point, progress per phase, per-table counts')
    .argument('<restoreId>', 'restore id, as `restore start` or `restore list` shows it')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .action(
      act(ctx, async (restoreId: string, options: { cluster: string }) => {
        const job = await requireJob(ctx, options.cluster, restoreId);
        const view = restoreView(job);
        ctx.out.result(view, () => restoreDetails(view));
      }),
    );

  group
    .command('list')
    .description("a cluster's restores, newest first")
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .action(
      act(ctx, async (options: { cluster: string }) => {
        const catalog = restoreCatalog(await ctx.target());
        const restores = (await catalog.listRestores(options.cluster)).map(restoreView);
        ctx.out.result({ cluster: options.cluster, restores }, () =>
          restores.length === 0
            ? 'no restores'
            : table(
                ['RESTORE ID', 'STATUS', 'RESTORE POINT', 'BACKUP', 'TABLES'],
                restores.map((r) => [
                  r.restoreId,
                  r.status,
                  r.restorePoint,
                  r.backupId,
                  r.tables.map((t) => t.target).join(','),
                ]),
              ),
        );
      }),
    );

  group
    .command('resume')
    .description('run a FAILED (or orphaned) restore again; finished work is kept, the result is the same')
    .argument('<restoreId>', 'restore id')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .option('--wait', 'wait until the restore completes or fails (exit 1 if it fails)')
    .action(
      act(ctx, async (restoreId: string, options: { cluster: string; wait?: boolean }) => {
        const event = { cluster: options.cluster, restoreId };
        const started = await invokeRestoreFunction(ctx, restoreResumeSpec.name, event);
        return finish(ctx, options.cluster, started, options.wait);
      }),
    );
};

interface StartOptions {
  cluster: string;
  to: string;
  targetPrefix: string;
  tables?: string[];
  wait?: boolean;
}

async function startRestore(ctx: CliContext, options: StartOptions): Promise<number> {
  const event = {
    cluster: options.cluster,
    to: options.to,
    targetPrefix: options.targetPrefix,
    ...(options.tables ? { tables: options.tables } : {}),
  };
  const started = await invokeRestoreFunction(ctx, startRestoreSpec.name, event);
  return finish(ctx, options.cluster, started, options.wait);
}

async function finish(
  ctx: CliContext,
  cluster: string,
  started: StartedRestore,
  wait?: boolean,
): Promise<number> {
  const job = wait
    ? await waitForRestore(ctx, cluster, started.restoreId)
    : await requireJob(ctx, cluster, started.restoreId);
  const view = restoreView(job);
  ctx.out.result(view, () =>
    wait
      ? restoreDetails(view)
      : `${restoreDetails(view)}\n\nfollow: rewind restore describe ${view.restoreId} --cluster ${cluster}`,
  );
  if (job.status === 'FAILED') {
    ctx.out.log(
      `restore ${job.restoreId} FAILED: ${job.failure ? `${job.failure.error}: ${job.failure.cause}` : 'no cause recorded'}`,
    );
    ctx.out.log(`run it again with: rewind restore resume ${job.restoreId} --cluster ${cluster}`);
    return EXIT_FAILED;
  }
  return 0;
}

/** Which flag a refusal is about, so `--json` names it as `field` and the message points at it. */
const FLAG_OF_FIELD: Record<string, string> = {
  cluster: '--cluster',
  to: '--to',
  targetPrefix: '--target-prefix',
  tables: '--tables',
};
function flagOf(errorType: string, message: string): string {
  if (errorType === 'InvalidInputError') {
    const field = /^invalid ([A-Za-z]+)/.exec(message)?.[1] ?? '';
    return FLAG_OF_FIELD[field] ?? field;
  }
  if (errorType === 'ClusterNotFoundError') return '--cluster';
  if (errorType.startsWith('Target')) return '--target-prefix';
  if (errorType === 'TableNotFoundError') return '--tables';
  if (errorType.startsWith('RestoreNot')) return 'restoreId';
  return '--to';
}

/**
 * A refusal of the restore function (planner window, checkpoint, gap, target tables): bad
 * input, so exit 2 (an InvalidInputError), keeping the function's error type and message.
 */
class RestoreRefusedError extends InvalidInputError {
  constructor(errorType: string, message: string) {
    const flag = flagOf(errorType, message);
    super(flag, message);
    this.name = errorType;
    this.message = flag.startsWith('--') ? `${flag}: ${message}` : message;
  }
}

async function invokeRestoreFunction(
  ctx: CliContext,
  logical: string,
  event: unknown,
): Promise<StartedRestore> {
  const target = await ctx.target();
  try {
    return (await invokeFunction(target, logical, event)) as StartedRestore;
  } catch (error) {
    if (
      error instanceof RemoteFunctionError &&
      (RESTORE_REFUSALS as readonly string[]).includes(error.errorType)
    )
      throw new RestoreRefusedError(error.errorType, error.errorMessage);
    throw error;
  }
}

function restoreCatalog(target: Target): RestoreCatalog {
  return new DynamoRestoreCatalog(target.dynamodb, target.catalogTableName);
}

async function requireJob(ctx: CliContext, cluster: string, restoreId: string): Promise<RestoreJob> {
  const job = await restoreCatalog(await ctx.target()).getRestore(cluster, restoreId);
  if (!job)
    throw new RestoreRefusedError(
      'RestoreNotFoundError',
      new RestoreNotFoundError(cluster, restoreId).message,
    );
  return job;
}

/** Poll the job until it leaves RUNNING, a progress line on stderr whenever it moved. */
async function waitForRestore(ctx: CliContext, cluster: string, restoreId: string): Promise<RestoreJob> {
  const target = await ctx.target();
  const catalog = restoreCatalog(target);
  const interval = ctx.settings.pollIntervalMs ?? (target.isLocal ? 1_000 : 5_000);
  let last = '';
  for (;;) {
    const job = await catalog.getRestore(cluster, restoreId);
    if (!job) throw new RestoreNotFoundError(cluster, restoreId);
    const line = progressLine(job);
    if (line !== last) ctx.out.log(line);
    last = line;
    if (job.status !== 'RUNNING') return job;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

function progressLine(job: RestoreJob): string {
  const totals = progressTotals(job);
  const phase = [...PHASES].reverse().find((p) => job.phases[p].status !== 'PENDING') ?? 'createTables';
  const p = job.phases[phase];
  const detail =
    phase === 'load'
      ? `${totals.load.unitsDone}/${p.total} segments, ${totals.load.items} items`
      : phase === 'replay'
        ? `${totals.replay.unitsDone}/${p.total} partitions, ${totals.replay.records} changes`
        : `${p.status.toLowerCase()}`;
  return `restore ${job.restoreId}: ${job.status}, ${phase} ${detail}`;
}

const seconds = (p: { startedAt?: number; finishedAt?: number }) =>
  p.startedAt !== undefined && p.finishedAt !== undefined ? (p.finishedAt - p.startedAt) / 1e6 : null;

/** The `--json` document of a restore (CLI.md): `{restoreId,status,restorePoint,tables:[{source,target,items}]}` and more. */
export function restoreView(job: RestoreJob) {
  const totals = progressTotals(job);
  const phase = (name: (typeof PHASES)[number]) => ({
    status: job.phases[name].status,
    startedAt: iso(job.phases[name].startedAt),
    finishedAt: iso(job.phases[name].finishedAt),
    seconds: seconds(job.phases[name]),
    total: job.phases[name].total,
  });
  return {
    restoreId: job.restoreId,
    cluster: job.clusterName,
    status: job.status,
    restorePoint: iso(job.restorePoint),
    backupId: job.plan.backupId,
    request: {
      to: job.request.to,
      targetPrefix: job.request.targetPrefix,
      tables: job.request.tables ?? null,
    },
    tables: job.plan.tables.map((t) => ({
      source: t.source,
      target: t.target,
      items: job.result?.tables.find((r) => r.source === t.source)?.items ?? null,
    })),
    items: job.result?.items ?? null,
    phases: {
      createTables: phase('createTables'),
      load: {
        ...phase('load'),
        done: totals.load.unitsDone,
        items: totals.load.items,
        chunks: totals.load.chunks,
      },
      replay: {
        ...phase('replay'),
        done: totals.replay.unitsDone,
        records: totals.replay.records,
        duplicates: totals.replay.duplicates,
        puts: totals.replay.puts,
        deletes: totals.replay.deletes,
      },
      verify: phase('verify'),
    },
    logWindow: { from: iso(job.plan.logFrom), to: iso(job.plan.logTo) },
    attempt: job.attempt,
    requestedAt: iso(job.requestedAt),
    finishedAt: iso(job.finishedAt),
    executionArn: job.executionArn ?? null,
    failure: job.failure ?? null,
  };
}
export type RestoreView = ReturnType<typeof restoreView>;

function restoreDetails(v: RestoreView): string {
  const head = fields([
    ['restore', v.restoreId],
    ['cluster', v.cluster],
    ['status', v.status],
    ['restore point', v.restorePoint],
    ['from backup', v.backupId],
    ['log window', `${v.logWindow.from} .. ${v.logWindow.to}`],
    ['attempt', v.attempt],
    ['requested', v.requestedAt],
    ['finished', v.finishedAt],
    ...(v.failure ? ([['failure', `${v.failure.error}: ${v.failure.cause}`]] as [string, string][]) : []),
  ]);
  const phases = table(
    ['PHASE', 'STATUS', 'UNITS', 'SECONDS', 'DETAIL'],
    [
      [
        'create tables',
        v.phases.createTables.status,
        v.phases.createTables.total,
        v.phases.createTables.seconds,
        null,
      ],
      [
        'load',
        v.phases.load.status,
        `${v.phases.load.done}/${v.phases.load.total}`,
        v.phases.load.seconds,
        `${v.phases.load.items} items`,
      ],
      [
        'replay',
        v.phases.replay.status,
        `${v.phases.replay.done}/${v.phases.replay.total}`,
        v.phases.replay.seconds,
        `${v.phases.replay.records} changes, ${v.phases.replay.puts} puts, ${v.phases.replay.deletes} deletes`,
      ],
      ['verify', v.phases.verify.status, v.phases.verify.total, v.phases.verify.seconds, null],
    ],
  );
  const tables = table(
    ['SOURCE', 'TARGET', 'ITEMS'],
    v.tables.map((t) => [t.source, t.target, t.items]),
  );
  return `${head}\n\n${phases}\n\n${tables}`;
}
