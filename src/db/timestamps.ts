// timestamptz values as Postgres sends them (DateStyle ISO): `2026-12-04 17:50:12.123456+00`.
// pg's own parser (postgres-date) runs three regular expressions, parseInt and Date setters per
// value; a page of 100 builds has 400 of them, 6% of the web node's CPU under the API benchmark
// (BENCHMARKS.md, part 8). The usual shape is parsed here with one expression; anything else
// (BC, infinity, a year before 100, seconds in the offset) goes to the parser it replaces.

const USUAL = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?$/;

/** Milliseconds of a fraction of a second's digits, truncated as Date truncates. */
function millis(fraction: string | undefined): number {
  if (!fraction) return 0;
  return Number((fraction + '00').slice(0, 3));
}

/** A timestamptz text as a Date, or what `fallback` makes of a text of another shape. */
export function parseTimestamptz(text: string, fallback: (text: string) => unknown): unknown {
  const m = USUAL.exec(text);
  if (!m) return fallback(text);
  const year = Number(m[1]);
  if (year < 100) return fallback(text);
  const utc = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), millis(m[7]));
  const offsetMinutes = (Number(m[9]) * 60 + Number(m[10] ?? 0)) * (m[8] === '-' ? -1 : 1);
  return new Date(utc - offsetMinutes * 60_000);
}
