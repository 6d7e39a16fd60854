/**
 * Where the CLI writes and what it reads from its environment. `main` takes one, so tests run
 * the CLI in-process with captured output; the process entry passes the real streams.
 */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Environment variables (REWIND_LOCAL_DIR, REWIND_STACK); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory relative paths resolve against; default `process.cwd()`. */
  cwd?: string;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/**
 * The one result of a command: a JSON document with `--json`, human text otherwise, on stdout.
 * Logs and progress go to stderr, so stdout stays parseable.
 */
export class Output {
  private emitted = false;

  constructor(
    private readonly io: CliIo,
    private readonly jsonMode: () => boolean,
  ) {}

  get json(): boolean {
    return this.jsonMode();
  }

  get hasResult(): boolean {
    return this.emitted;
  }

  /** Print the command's result; a command has exactly one. */
  result(doc: unknown, human: () => string): void {
    if (this.emitted) throw new Error('a command prints exactly one result');
    this.emitted = true;
    this.io.stdout.write(`${this.json ? JSON.stringify(doc, null, 2) : human()}\n`);
  }

  /** A log line on stderr. */
  log(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}

/** An in-memory CliIo (tests, embedding): what the CLI wrote, as text. */
export function memoryIo(options: Omit<CliIo, 'stdout' | 'stderr'> & { tty?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: options.tty ?? false },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}
