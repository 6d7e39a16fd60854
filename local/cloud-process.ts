/**
 * Entry of the detached local cloud process (`rewind local start --detach` spawns
 * `tsx local/cloud-process.ts --dir <dir> [--bundled]`). It is ready once `<dir>/local.json` exists with
 * its pid; SIGTERM stops it cleanly and removes the file.
 */
import { DEFAULT_LOCAL_DIR } from './clients';
import { runLocalCloudForeground } from './cloud';

function dirArgument(argv: string[]): string {
  const index = argv.indexOf('--dir');
  return (index >= 0 ? argv[index + 1] : undefined) ?? DEFAULT_LOCAL_DIR;
}

const argv = process.argv.slice(2);
runLocalCloudForeground(dirArgument(argv), console.log, { bundled: argv.includes('--bundled') }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
