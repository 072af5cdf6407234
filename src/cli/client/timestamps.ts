// `jetway watch --timestamps` (fly watch -t): every line of a build's output starts with the
// local time of the event that wrote it, `HH:MM:SS  `, or ten spaces for an event without a time,
// as fly's eventstream.TimestampedWriter writes it (fly/eventstream/timestamped_writer.go).
import type { CliIO } from '../io.ts';

/** What stands before a line whose event has no time: as wide as a timestamp. */
export const NO_TIMESTAMP = ' '.repeat(10);

/** `HH:MM:SS  ` in local time for a unix time in seconds; NO_TIMESTAMP for none. */
export function timestampPrefix(unixSeconds: number | undefined): string {
  if (unixSeconds === undefined || !Number.isFinite(unixSeconds) || unixSeconds <= 0) return NO_TIMESTAMP;
  const t = new Date(unixSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}  `;
}

/** Stdout with each line prefixed by the time set last (setTime), the way fly prefixes them. */
export class TimestampedIO implements CliIO {
  private prefix = NO_TIMESTAMP;
  private atLineStart = true;
  readonly stderr: CliIO['stderr'];

  constructor(private readonly io: CliIO) {
    this.stderr = io.stderr;
  }

  /** The time of the event whose text comes next (unix seconds; undefined: none). */
  setTime(unixSeconds: number | undefined): void {
    this.prefix = timestampPrefix(unixSeconds);
  }

  readonly stdout = (text: string): void => {
    if (text.length === 0) return;
    // a prefix at the start of every line: after each newline but the text's last character
    let out = this.atLineStart ? this.prefix : '';
    out += text.replace(/\n(?=[\s\S])/g, `\n${this.prefix}`);
    this.atLineStart = text.endsWith('\n');
    this.io.stdout(out);
  };
}
