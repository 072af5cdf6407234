// A terminal's line discipline for hijack sessions that asked for a TTY, which Jetway's runtimes
// cannot give (no pseudo-terminal in the pod or container). A stock fly sends `tty` in the process
// spec when its stdout is a terminal (fly/commands/hijack.go) and puts its own terminal in raw mode,
// counting on the remote TTY to echo, to turn Enter (`\r`) into a line and `\n` into `\r\n`.
// Without one, bash would never see a line and nothing typed would show. So the session does
// what a cooked TTY (ICANON, ECHO, ICRNL, ONLCR) would: keystrokes are echoed and collected into a
// line, Enter sends it with `\n`, backspace erases a character, Ctrl-U the line, Ctrl-D on an empty
// line ends stdin, and output gets `\r\n`. Ctrl-C cannot signal the command (no TTY, no process
// group): it drops the line being typed, as at a shell prompt.

const CR = 0x0d;
const LF = 0x0a;
const DEL = 0x7f;
const BS = 0x08;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_U = 0x15;
const TAB = 0x09;

export interface LineInput {
  /** complete lines for the command's stdin (each with its `\n`), or a partial one flushed by Ctrl-D */
  toProcess: Buffer;
  /** what the terminal shows back */
  echo: Buffer;
  /** stdin ended (Ctrl-D on an empty line) */
  eof: boolean;
}

/** The longest line kept (a TTY's canonical buffer is 4 KiB; more is sent as it comes). */
const MAX_LINE = 4096;

export class LineDiscipline {
  private line: number[] = [];
  private ended = false;

  input(chunk: Buffer): LineInput {
    const toProcess: number[] = [];
    const echo: number[] = [];
    for (const byte of chunk) {
      if (this.ended) break;
      if (byte === CR || byte === LF) {
        toProcess.push(...this.line, LF);
        this.line = [];
        echo.push(CR, LF);
      } else if (byte === DEL || byte === BS) {
        if (this.line.length === 0) continue;
        // a whole UTF-8 character: its continuation bytes (10xxxxxx), then its first byte
        while (this.line.length > 1 && ((this.line.at(-1) ?? 0) & 0xc0) === 0x80) this.line.pop();
        const erased = this.line.pop() ?? 0;
        // a control character was echoed as two (^X)
        echo.push(...(erased < 0x20 && erased !== TAB ? [BS, BS, 0x20, 0x20, BS, BS] : [BS, 0x20, BS]));
      } else if (byte === CTRL_U) {
        // one column per character (UTF-8 continuation bytes take none)
        for (const b of this.line) if ((b & 0xc0) !== 0x80) echo.push(BS, 0x20, BS);
        this.line = [];
      } else if (byte === CTRL_C) {
        this.line = [];
        echo.push(0x5e, 0x43, CR, LF);
      } else if (byte === CTRL_D) {
        if (this.line.length === 0) {
          this.ended = true;
        } else {
          toProcess.push(...this.line);
          this.line = [];
        }
      } else {
        this.line.push(byte);
        echo.push(...(byte < 0x20 && byte !== TAB ? [0x5e, byte + 0x40] : [byte]));
        if (this.line.length >= MAX_LINE) {
          toProcess.push(...this.line);
          this.line = [];
        }
      }
    }
    return { toProcess: Buffer.from(toProcess), echo: Buffer.from(echo), eof: this.ended };
  }
}

/** Output as a terminal with ONLCR shows it: each `\n` as `\r\n`. */
export function onlcr(chunk: Buffer): Buffer {
  if (!chunk.includes(LF)) return chunk;
  const out: number[] = [];
  for (const byte of chunk) {
    if (byte === LF) out.push(CR);
    out.push(byte);
  }
  return Buffer.from(out);
}
