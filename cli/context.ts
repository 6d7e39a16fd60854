import type { Command } from 'commander';
import type { CliIo, Output } from './io';
import { chooseTarget, openTarget, type Target, type TargetChoice, type TargetFlags } from './target';

/** Flags every command accepts (before or after the command name). */
export interface GlobalFlags extends TargetFlags {
  json?: boolean;
}

/** Knobs for tests and callers of `main`; the CLI's defaults suit operators. */
export interface MainSettings {
  /** How often `--wait` polls the catalog (default 1 s locally, 5 s on AWS). */
  pollIntervalMs?: number;
}

/** What a command needs from the CLI around it. */
export interface CliContext {
  io: Required<CliIo>;
  out: Output;
  settings: MainSettings;
  flags(): GlobalFlags;
  /** The target the flags choose, without connecting to it. */
  choice(): TargetChoice;
  /** The chosen target, opened once; main closes it when the command returns. */
  target(): Promise<Target>;
  /** The exit code of the command that ran (0 unless it sets one). */
  exitCode: number;
}

/** A command group (`local`, `cluster`, `backup`, …) adds its commands to the program. */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

export function createContext(
  io: Required<CliIo>,
  out: Output,
  settings: MainSettings,
  flags: () => GlobalFlags,
): CliContext & { close(): void } {
  let opened: Promise<Target> | undefined;
  const choice = () => chooseTarget(flags(), io.env, io.cwd);
  return {
    io,
    out,
    settings,
    flags,
    choice,
    target: () => {
      opened ??= openTarget(choice());
      return opened;
    },
    exitCode: 0,
    close: () => {
      opened?.then(
        (target) => target.close(),
        () => {},
      );
    },
  };
}

/**
 * Wrap a command body for `.action()`: the body returns its exit code (or nothing for 0) and
 * throws for failures; main maps what it throws to an exit code.
 */
export function act<A extends unknown[]>(
  ctx: CliContext,
  body: (...args: A) => Promise<number | undefined> | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = (await body(...args)) ?? 0;
  };
}
