import type { Command } from 'commander';
import type { BackupRecord } from '../../functions/core/catalog-model';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import { startBackupSpec } from '../../functions/start-backup/spec';
import { act, type CliContext, type CommandGroup } from '../context';
import * as parse from '../validate';
import { invokeFunction, waitAndReport } from './backup';

/**
 * `rewind schedule run --cluster C [--now ISO]`: do now what the automatic-backup schedule does
 * (CLI.md). With `--now`, it is the run the schedule planned for that instant (catching up a
 * missed run): start-backup names the backup after it, so repeating the command is harmless.
 */
export const scheduleCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  const group = program.command('schedule').description('the automatic-backup schedule of a cluster');

  group
    .command('run')
    .description('take the automatic backup (kind auto) now, as the schedule would, and wait for it')
    .requiredOption('--cluster <name>', 'cluster name', parse.name)
    .option(
      '--now <instant>',
      "the scheduled run to take (ISO-8601 UTC instant it was planned for); the same instant again returns that run's backup instead of starting another",
      parse.instant,
    )
    .action(
      act(ctx, async (options: { cluster: string; now?: Micros }) => {
        const target = await ctx.target();
        const started = (await invokeFunction(target, startBackupSpec.name, {
          cluster: options.cluster,
          kind: 'auto',
          ...(options.now !== undefined ? { scheduledAt: formatIsoMicros(options.now) } : {}),
        })) as BackupRecord;
        return waitAndReport(ctx, target, options.cluster, started.backupId);
      }),
    );
};
