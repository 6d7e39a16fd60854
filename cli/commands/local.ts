import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LocalConfig } from '../../local/clients';
import { resetLocalState, runLocalCloudForeground } from '../../local/cloud';
import { act, type CliContext, type CommandGroup } from '../context';
import { fields } from '../format';
import { CLOUD_LOG, startDetached, stopCloud, waitForConfig } from '../local-process';
import { defaultLocalDir } from '../target';
import * as parse from '../validate';

/** The `local start` document (CLI.md): what any client needs to see Rewind's tables and objects. */
export function localCloudDocument(config: LocalConfig) {
  return {
    endpoints: config.endpoints,
    region: config.region,
    credentials: config.credentials,
    bucket: config.bucket,
    catalogTable: config.catalogTable,
    dir: config.dir,
    pid: config.pid ?? null,
    functions: config.functions ?? 'sources',
    ...(config.bundleDir ? { bundleDir: config.bundleDir } : {}),
  };
}

function describeCloud(config: LocalConfig, detached: boolean): string {
  const lines = [
    `local cloud running${config.pid ? ` (pid ${config.pid})` : ''}, state in ${config.dir}`,
    fields(Object.entries(config.endpoints).map(([service, url]) => [`  ${service}`, url])),
    `use it with: rewind --local ${config.dir} <command>`,
  ];
  if (detached)
    lines.push(`log: ${resolve(config.dir, CLOUD_LOG)}; stop: rewind local stop --dir ${config.dir}`);
  else lines.push('Ctrl-C stops it');
  return lines.join('\n');
}

/** `--dir`, else the global `--local DIR`, else `REWIND_LOCAL_DIR`, else `.rewind`. */
function localDir(ctx: CliContext, dir: string | undefined): string {
  const local = ctx.flags().local;
  return resolve(ctx.io.cwd, dir ?? (typeof local === 'string' ? local : defaultLocalDir(ctx.io.env)));
}

export const localCommands: CommandGroup = (program: Command, ctx: CliContext) => {
  const group = program
    .command('local')
    .description('the local cloud: emulators, change bridge, control plane, schedules');

  group
    .command('start')
    .description('start the local cloud and write DIR/local.json (foreground until Ctrl-C, or --detach)')
    .option('--dir <dir>', 'state folder (default: --local DIR, $REWIND_LOCAL_DIR or .rewind)')
    .option('--detach', 'run it in the background; return once it answers')
    .option(
      '--bundled',
      "run the functions' esbuild bundles (built as for Lambda into DIR/bundles) in worker threads, not the sources",
    )
    .option(
      '--timeout <seconds>',
      'with --detach: how long to wait for it to be ready',
      parse.positiveInt,
      180,
    )
    .action(
      act(ctx, async (options: { dir?: string; detach?: boolean; bundled?: boolean; timeout: number }) => {
        const dir = localDir(ctx, options.dir);
        if (options.detach) {
          const config = await startDetached(dir, options.timeout * 1000, { bundled: options.bundled });
          ctx.out.result(localCloudDocument(config), () => describeCloud(config, true));
          return;
        }
        await runForeground(ctx, dir, options.bundled ?? false);
      }),
    );

  group
    .command('stop')
    .description('stop the local cloud of DIR; no process is left behind')
    .option('--dir <dir>', 'state folder (default: --local DIR, $REWIND_LOCAL_DIR or .rewind)')
    .option('--timeout <seconds>', 'grace period before it is killed', parse.positiveInt, 30)
    .action(
      act(ctx, async (options: { dir?: string; timeout: number }) => {
        const dir = localDir(ctx, options.dir);
        const outcome = await stopCloud(dir, options.timeout * 1000);
        const doc = { dir, ...outcome, pid: 'pid' in outcome ? outcome.pid : null, stateKeptIn: dir };
        const kept = `its state stays in ${dir} (\`rewind local start\` resumes it, \`rewind local reset\` deletes it)`;
        ctx.out.result(doc, () =>
          outcome.state === 'not-running'
            ? `no local cloud runs in ${dir}`
            : outcome.state === 'stale'
              ? `local cloud ${outcome.pid} in ${dir} had already exited; removed its local.json; ${kept}`
              : `local cloud ${outcome.pid} stopped${outcome.state === 'killed' ? ' (killed after the grace period)' : ''}; ${kept}`,
        );
      }),
    );

  group
    .command('reset')
    .description('delete the state of the stopped local cloud of DIR: tables, catalog, backups, streams')
    .option('--dir <dir>', 'state folder (default: --local DIR, $REWIND_LOCAL_DIR or .rewind)')
    .action(
      act(ctx, async (options: { dir?: string }) => {
        const dir = localDir(ctx, options.dir);
        const removed = await resetLocalState(dir);
        ctx.out.result({ dir, removed }, () => `deleted the local cloud's state in ${dir}`);
      }),
    );
};

/**
 * Run the local cloud in this process until SIGINT/SIGTERM; print its document once ready
 * (logs go to stderr).
 */
async function runForeground(ctx: CliContext, dir: string, bundled: boolean): Promise<void> {
  let finished = false;
  let failure: unknown;
  const running = runLocalCloudForeground(dir, (line) => ctx.out.log(line), { bundled }).then(
    () => {
      finished = true;
    },
    (error: unknown) => {
      failure = error;
      finished = true;
    },
  );
  try {
    const config = await waitForConfig(dir, process.pid, Number.POSITIVE_INFINITY, () =>
      finished ? 'local cloud stopped before it was ready' : undefined,
    );
    ctx.out.result(localCloudDocument(config), () => describeCloud(config, false));
  } catch (error) {
    await running;
    throw failure ?? error;
  }
  await running;
  if (failure) throw failure;
}
