import type { Command } from 'commander';
import type { RetentionDecision } from '../../functions/core/retention';
import { formatIsoMicros, type Micros } from '../../functions/core/time';
import type { SweepRetentionResult } from '../../functions/sweep-retention/schema';
import { sweepRetentionSpec as sweepRetentionFunction } from '../../functions/sweep-retention/spec';
import { act, type CliContext, type CommandGroup } from '../context';
import { RemoteFunctionError, UsageError } from '../errors';
import { table } from '../format';
import * as parse from '../validate';
import { invokeFunction } from './backup';

/** `rewind sweep --cluster C [--now ISO] [--confirm]`: the retention plan; deletes only with --confirm. */
export const sweepCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  program
    .command('sweep')
    .description('retention sweep of a cluster: shows the plan; deletes only with --confirm')
    .requiredOption('--cluster <name>', 'cluster name', parse.name)
    .option('--now <instant>', 'plan as of this ISO-8601 UTC instant (default: now)', parse.instant)
    .option('--confirm', 'delete what the plan deletes')
    .action(
      act(ctx, async (options: { cluster: string; now?: Micros; confirm?: boolean }) => {
        // The deployed function plans and deletes, with the stack's configuration and role.
        const target = await ctx.target();
        const result = (await invokeFunction(target, sweepRetentionFunction.name, {
          cluster: options.cluster,
          ...(options.now !== undefined ? { now: formatIsoMicros(options.now) } : {}),
          confirm: options.confirm === true,
        }).catch(namingNowFlag)) as SweepRetentionResult;
        ctx.out.result(result, () => {
          const rows = (action: string, ds: RetentionDecision[]) =>
            ds.map((d) => [action, d.type, d.type === 'backup' ? d.backupId : d.key, d.reason]);
          const summary = options.confirm
            ? `deleted ${result.deleted.backups.length} backups and ${result.deleted.logObjects.length} log objects`
            : `plan only (as of ${result.now}, window from ${result.windowStart}): nothing deleted; run again with --confirm to delete`;
          return `${table(['action', 'type', 'subject', 'reason'], [...rows('keep', result.keep), ...rows('delete', result.delete)])}\n${summary}`;
        });
      }),
    );
};

/** The function refuses a future `now` (field `now`); the operator typed `--now`. */
function namingNowFlag(error: unknown): never {
  if (
    error instanceof RemoteFunctionError &&
    error.errorType === 'InvalidInputError' &&
    /^invalid now:/.test(error.message)
  )
    throw new UsageError(error.message.replace(/^invalid now:/, 'invalid --now:'), '--now');
  throw error;
}
