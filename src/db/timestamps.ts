// timestamptz values as Postgres sends them (DateStyle ISO): `2026-12-04 17:50:12.123456+00`.
// pg's own parser (postgres-date) runs three regular expressions, parseInt and Date setters per
// value; a page of 100 builds has 400 of them (BENCHMARKS.md, parts 8 and 10). The usual shape
// is read here digit by digit (no expression, no substrings: a regular expression was still 9%
// of the web node's samples under a page of builds); anything else (BC, infinity, a year before
// 100, seconds in the offset, any other character) goes to the parser it replaces.

const ZERO = 48;
const COLON = 58;
const DOT = 46;
const PLUS = 43;
const MINUS = 45;

/** The number of the `n` digits at `at`, or -1 if one is not a digit. */
function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A timestamptz text as a Date, or what `fallback` makes of a text of another shape. */
export function parseTimestamptz(text: string, fallback: (text: string) => unknown): unknown {
  // YYYY-MM-DD HH:MM:SS: 19 characters, then an optional fraction, then the offset
  if (text.length < 22 || text.charCodeAt(4) !== MINUS || text.charCodeAt(7) !== MINUS || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) {
    return fallback(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return fallback(text);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === DOT) {
    // up to 6 digits; milliseconds truncated, as Date truncates
    let n = 0;
    at++;
    while (n < 6 && at < text.length) {
      const d = text.charCodeAt(at) - ZERO;
      if (d < 0 || d > 9) break;
      if (n < 3) ms = ms * 10 + d;
      n++;
      at++;
    }
    if (n === 0) return fallback(text);
    for (let i = n; i < 3; i++) ms *= 10;
  }
  const sign = text.charCodeAt(at);
  if (sign !== PLUS && sign !== MINUS) return fallback(text);
  const offsetHours = digits(text, at + 1, 2);
  if (offsetHours < 0) return fallback(text);
  let offsetMinutes = 0;
  let end = at + 3;
  if (end < text.length) {
    // `:MM`, and nothing after it (seconds in the offset, BC: the fallback's)
    if (text.length !== end + 3 || text.charCodeAt(end) !== COLON) return fallback(text);
    offsetMinutes = digits(text, end + 1, 2);
    if (offsetMinutes < 0) return fallback(text);
    end += 3;
  }
  const offset = (offsetHours * 60 + offsetMinutes) * (sign === MINUS ? -1 : 1);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000);
}
