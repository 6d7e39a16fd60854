import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import type { BackupRecord } from '../../functions/core/catalog-model';
import { BackupNotFoundError, ClusterNotFoundError } from '../../functions/core/errors';
import type { DeleteBackupResult } from '../../functions/delete-backup/schema';
import { deleteBackupSpec as deleteBackupFunction } from '../../functions/delete-backup/spec';
import { startBackupSpec as startBackupFunction } from '../../functions/start-backup/spec';
import { act, type CliContext, type CommandGroup } from '../context';
import { EXIT_FAILED, RemoteFunctionError } from '../errors';
import { backupDetails, backupTable, backupView, fields, iso } from '../format';
import { backupProgress, SegmentCounter } from '../progress';
import type { Target } from '../target';
import * as parse from '../validate';

const CLUSTER_FLAG = ['--cluster <name>', 'cluster name'] as const;

export const backupCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  const group = program.command('backup').description('snapshot backups of a cluster');

  group
    .command('start')
    .description('start a manual snapshot backup (kept until deleted)')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .option('--name <label>', 'a label for the backup, e.g. before-migration', parse.label)
    .option('--wait', 'wait until the backup completes or fails (exit 1 if it fails)')
    .action(
      act(ctx, (options: { cluster: string; name?: string; wait?: boolean }) => startBackup(ctx, options)),
    );

  group
    .command('list')
    .description("a cluster's backups, newest first")
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .option('--all', 'include deleted backups')
    .action(
      act(ctx, async (options: { cluster: string; all?: boolean }) => {
        const target = await ctx.target();
        await requireCluster(target, options.cluster);
        const backups = (await target.catalog.listBackups(options.cluster))
          .filter((b) => options.all || b.status !== 'DELETED')
          .map(backupView);
        ctx.out.result({ cluster: options.cluster, backups }, () => backupTable(backups));
      }),
    );

  group
    .command('describe')
    .description('one backup: status, instants, tables, sizes')
    .argument('<backupId>', 'backup id, as `backup list` shows it')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .action(
      act(ctx, async (backupId: string, options: { cluster: string }) => {
        const target = await ctx.target();
        const backup = await target.catalog.getBackup(options.cluster, backupId);
        if (!backup) throw new BackupNotFoundError(options.cluster, backupId);
        const view = backupView(backup);
        ctx.out.result(view, () => backupDetails(view));
      }),
    );

  group
    .command('delete')
    .description('delete a completed or failed backup: marks it DELETED, then removes its objects')
    .argument('<backupId>', 'backup id, as `backup list` shows it')
    .requiredOption(...CLUSTER_FLAG, parse.name)
    .action(
      act(ctx, async (backupId: string, options: { cluster: string }) => {
        // The deployed function does the work, with the stack's configuration and its role,
        // not the operator's credentials in this process.
        const target = await ctx.target();
        const result = (await invokeFunction(target, deleteBackupFunction.name, {
          cluster: options.cluster,
          backupId,
        })) as DeleteBackupResult;
        const doc = { ...result, deletedAt: iso(result.deletedAt) };
        ctx.out.result(doc, () => `deleted backup ${backupId} (${result.deletedObjects} objects removed)`);
      }),
    );
};

async function requireCluster(target: Target, cluster: string): Promise<void> {
  if (!(await target.catalog.getCluster(cluster))) throw new ClusterNotFoundError(cluster);
}

/**
 * Invoke a Rewind function the way a console user does (Lambda Invoke, RequestResponse) and
 * return its JSON result; a function error becomes a RemoteFunctionError with its type.
 */
export async function invokeFunction(target: Target, logicalName: string, event: unknown): Promise<unknown> {
  const functionName = target.functionName(logicalName);
  const response = await target.lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  let payload: unknown = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = text;
  }
  if (response.FunctionError) {
    const doc = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    throw new RemoteFunctionError(
      functionName,
      typeof doc.errorType === 'string' ? doc.errorType : response.FunctionError,
      typeof doc.errorMessage === 'string' ? doc.errorMessage : String(text),
    );
  }
  return payload;
}

async function startBackup(
  ctx: CliContext,
  options: { cluster: string; name?: string; wait?: boolean },
): Promise<number> {
  const target = await ctx.target();
  const event = { cluster: options.cluster, ...(options.name ? { name: options.name } : {}) };
  const started = (await invokeFunction(target, startBackupFunction.name, event)) as BackupRecord;
  if (!options.wait) {
    const view = backupView(started);
    ctx.out.result(view, () =>
      fields([
        ['backup', view.backupId],
        ['status', view.status],
        ['follow', `rewind backup describe ${view.backupId} --cluster ${options.cluster}`],
      ]),
    );
    return 0;
  }
  return waitAndReport(ctx, target, options.cluster, started.backupId);
}

/** Wait for the backup to finish, print it; exit code 1 (with the cause) when it FAILED. */
export async function waitAndReport(
  ctx: CliContext,
  target: Target,
  cluster: string,
  backupId: string,
): Promise<number> {
  const done = await waitForBackup(ctx, target, cluster, backupId);
  const view = backupView(done);
  ctx.out.result(view, () => backupDetails(view));
  if (done.status === 'FAILED') {
    ctx.out.log(
      `backup ${done.backupId} FAILED: ${done.failure ? `${done.failure.error}: ${done.failure.cause}` : 'no cause recorded'}`,
    );
    return EXIT_FAILED;
  }
  return 0;
}

/** Poll the catalog until the backup leaves RUNNING, showing progress on stderr. */
export async function waitForBackup(
  ctx: CliContext,
  target: Target,
  cluster: string,
  backupId: string,
): Promise<BackupRecord> {
  const interval = ctx.settings.pollIntervalMs ?? (target.isLocal ? 1_000 : 5_000);
  const progress = backupProgress(ctx.io.stderr, backupId);
  const segments = new SegmentCounter(target.store);
  const started = Date.now();
  try {
    for (;;) {
      const backup = await target.catalog.getBackup(cluster, backupId);
      if (!backup) throw new BackupNotFoundError(cluster, backupId);
      const segmentsDone = await segments.count(backup.snapshotPrefix);
      progress.update({ status: backup.status, segmentsDone, elapsedMs: Date.now() - started });
      if (backup.status !== 'RUNNING') return backup;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  } finally {
    progress.stop();
  }
}
