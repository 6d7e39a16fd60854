import { memoryIo } from '../../cli/io';
import { main } from '../../cli/main';
import type { LocalConfig } from '../../local/clients';

/** Run the CLI in-process against a local cloud; stdout parsed on demand (for --json). */
export function cliRunner(cfg: LocalConfig) {
  return async (...argv: string[]) => {
    const capture = memoryIo({ cwd: cfg.dir });
    const code = await main(['--local', cfg.dir, ...argv], capture.io, { pollIntervalMs: 200 });
    const stdout = capture.stdout();
    return {
      code,
      stdout,
      stderr: capture.stderr(),
      json: () => JSON.parse(stdout) as Record<string, unknown>,
    };
  };
}
