import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { commandGroups } from './commands';
import { createContext, type GlobalFlags, type MainSettings } from './context';
import { errorDocument, errorMessage, exitCodeFor, networkFailure, TargetUnreachableError } from './errors';
import { type CliIo, Output, processIo } from './io';
import { DEFAULT_STACK, defaultLocalDir, type TargetChoice } from './target';

const TARGET_HELP = `
Targets (first match):
  --local [DIR]          the local cloud described by DIR/local.json (DIR default: $REWIND_LOCAL_DIR, else .rewind)
  --stack / --region     AWS: default credential chain; the stack's outputs name bucket, catalog, functions
  REWIND_LOCAL_DIR=DIR   the local cloud in DIR
  ./.rewind/local.json   exists: that local cloud
  otherwise              AWS, stack $REWIND_STACK or ${DEFAULT_STACK}

Output: --json prints exactly one JSON document on stdout; logs and progress go to stderr.
Instants are ISO-8601 UTC with microseconds, e.g. 2026-11-27T04:15:00.123456Z.
Exit codes: 0 success, 1 the operation ran and failed, 2 bad usage or bad input.`;

/** The program with every command group; output and exits go through `ctx`, never the process. */
function buildProgram(ctx: ReturnType<typeof createContext>): Command {
  const program = new Command('rewind')
    .description('Rewind: backup and point-in-time restore for DynamoDB clusters')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
    })
    .showSuggestionAfterError()
    .addOption(
      new Option('--local [dir]', 'use the local cloud in DIR (default $REWIND_LOCAL_DIR, else .rewind)'),
    )
    .addOption(new Option('--stack <name>', `AWS: the Rewind stack (default ${DEFAULT_STACK})`))
    .addOption(new Option('--region <region>', 'AWS: region (default from the credential chain)'))
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', TARGET_HELP);
  for (const group of commandGroups) group(program, ctx);
  return program;
}

/**
 * `--local` takes an optional DIR, so `rewind --local backup list` would read `backup` as DIR.
 * A bare `--local` followed by a command name means the default directory.
 */
function bindBareLocal(
  argv: string[],
  commands: string[],
  env: Record<string, string | undefined>,
): string[] {
  return argv.map((arg, i) =>
    arg === '--local' && commands.includes(argv[i + 1] ?? '') ? `--local=${defaultLocalDir(env)}` : arg,
  );
}

/**
 * Run the CLI: parse `argv` (without node and script), run the command, return the exit code.
 * Nothing here exits the process; tests call it in-process with captured streams.
 */
export async function main(
  argv: string[],
  io: CliIo = processIo(),
  settings: MainSettings = {},
): Promise<number> {
  const fullIo = { env: process.env, cwd: process.cwd(), ...io };
  let program: Command | undefined;
  const flags = () => (program?.opts() ?? {}) as GlobalFlags;
  const out = new Output(fullIo, () => flags().json ?? argv.includes('--json'));
  const ctx = createContext(fullIo, out, settings, flags);
  program = buildProgram(ctx);
  try {
    const commands = program.commands.map((c) => c.name());
    await program.parseAsync(bindBareLocal(argv, commands, fullIo.env), { from: 'user' });
    return ctx.exitCode;
  } catch (caught) {
    const error = explainUnreachable(caught, ctx);
    const code = exitCodeFor(error);
    if (code === 0) return 0;
    // Commander has already printed its own usage errors.
    if (!(error instanceof Error && error.name === 'CommanderError'))
      fullIo.stderr.write(`rewind: ${errorMessage(error)}\n`);
    if (fullIo.env.REWIND_DEBUG && error instanceof Error && error.stack)
      fullIo.stderr.write(`${error.stack}\n`);
    if (out.json && !out.hasResult) out.result(errorDocument(error, code), () => '');
    return code;
  } finally {
    ctx.close();
  }
}

/** A raw socket error becomes one that names the target the command talked to. */
function explainUnreachable(error: unknown, ctx: { choice(): TargetChoice }): unknown {
  const reason = networkFailure(error);
  if (!reason) return error;
  let choice: TargetChoice;
  try {
    choice = ctx.choice();
  } catch {
    return error;
  }
  return choice.kind === 'local'
    ? new TargetUnreachableError(
        `the local cloud in ${choice.dir}`,
        reason,
        `is it running? start it with \`rewind local start --dir ${choice.dir}\` (its state is kept there)`,
        { cause: error },
      )
    : new TargetUnreachableError(
        `AWS for stack ${choice.stack}${choice.region ? ` in ${choice.region}` : ''}`,
        reason,
        'check the network, the region and the credentials',
        { cause: error },
      );
}

/** True when this module is the process entry (`tsx cli/main.ts`), not an import. */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Process entry: run, let stdout drain, exit with the code (lingering sockets cannot hold it). */
export async function runAsProcess(argv = process.argv.slice(2)): Promise<never> {
  // The SDK warns on every run that it will require Node 22 from 2027; the local stack runs on
  // Node 20 (LOCAL-STACK.md), so the warning would only bury the command's own stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await main(argv);
  await new Promise<void>((done) => process.stdout.write('', () => done()));
  process.exit(code);
}

if (isEntry()) await runAsProcess();
