// Runs the CLI in-process and captures what it prints.
import { runCli } from '../../src/cli/program.ts';
import type { CliIO } from '../../src/cli/io.ts';

export type CapturedIO = CliIO & { out: string; err: string };

export function capture(): CapturedIO {
  const io: CapturedIO = {
    out: '',
    err: '',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

/** `jetway <argv>` as at a terminal (tables with headers): the exit status and the captured output. */
export async function jetway(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  io.stdoutIsTTY = true;
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}
