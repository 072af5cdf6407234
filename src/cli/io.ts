// The CLI writes through this small interface so commands can be run in-process by tests
// and their output and exit code asserted on.
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** bytes for stdout/stderr (binary-safe; commands fall back to stdout/stderr as UTF-8) */
  stdoutBytes?: (chunk: Buffer) => void;
  stderrBytes?: (chunk: Buffer) => void;
  /** stdout is a terminal: tables get their headers (fly/ui/table.go); absent: not one */
  stdoutIsTTY?: boolean;
  /** the command's stdin (`jetway intercept`); absent: empty */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdoutBytes: (chunk) => process.stdout.write(chunk),
  stderrBytes: (chunk) => process.stderr.write(chunk),
  stdoutIsTTY: process.stdout.isTTY === true,
  // read only by the commands that use it (creating process.stdin has side effects on a TTY)
  get stdin() {
    return process.stdin;
  },
};

/** Thrown by a command to end the CLI with a given exit code after printing its message. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}

/** A usage error (a bad flag or argument): exit status 2, as fly and most CLIs do. */
export function usageError(message: string): CliExit {
  return new CliExit(2, message);
}
