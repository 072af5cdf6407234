// The `time` resource type (github.com/concourse/time-resource): versions are points in time.
//
// source: interval (Go duration), start/stop (time of day: `3:04 PM`, `3PM`, `15:04`, `1504`,
//   each optionally followed by ` -0700`), location (IANA zone, default UTC), days (weekday names),
//   initial_version (emit one version on the first check even outside the window), start_after
//   (no version before this local date-time).
// check: `[given]` plus `now` when a new version is due (first check: `now`, if inside the window).
// in: writes ./input (the request) and ./timestamp. out: the current time.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Fields, parseGoDuration } from '../fields.ts';
import { ResourceError, nowOf, type CheckRequest, type InRequest, type OutRequest, type ResourceContext, type ResourceResult, type ResourceTypeImpl } from '../protocol.ts';
import type { Version } from '../../model/version.ts';

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Time zones through Intl.

interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      });
    } catch {
      throw new ResourceError(`invalid source.location: unknown time zone '${zone}'`);
    }
    formatters.set(zone, f);
  }
  return f;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall-clock time of an instant in a zone. */
export function wallTime(ms: number, zone: string): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** The zone's offset from UTC at an instant, in milliseconds. */
export function zoneOffset(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of a wall-clock time in a zone (like Go's time.Date; day overflow normalises). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - zoneOffset(guess, zone);
  return guess - zoneOffset(first, zone);
}

/** RFC 3339 in a zone: `2024-05-06T07:08:09+02:00`, `Z` for UTC, milliseconds when non-zero. */
export function formatRfc3339(ms: number, zone: string): string {
  const offset = zone === 'UTC' ? 0 : zoneOffset(ms, zone);
  const w = new Date(ms + offset);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const millis = w.getUTCMilliseconds();
  const frac = millis === 0 ? '' : `.${pad(millis, 3)}`.replace(/0+$/, '');
  let suffix = 'Z';
  if (offset !== 0) {
    const abs = Math.abs(offset) / 60_000;
    suffix = `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }
  return (
    `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}` +
    `T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}${frac}${suffix}`
  );
}

// ---------------------------------------------------------------------------------------------
// Source parsing.

/** Minutes after midnight. */
type TimeOfDay = number;

const TIME_FORMATS: { re: RegExp; build: (m: RegExpMatchArray) => [number, number, string | undefined] | undefined }[] = [
  // 3:04 PM, 3:04PM (optionally followed by an offset)
  {
    re: /^(\d{1,2}):(\d{2})\s?([AaPp][Mm])(?:\s+([+-]\d{4}))?$/,
    build: (m) => ampm(Number(m[1]), Number(m[2]), m[3] ?? '', m[4]),
  },
  // 3PM, 3 PM
  { re: /^(\d{1,2})\s?([AaPp][Mm])(?:\s+([+-]\d{4}))?$/, build: (m) => ampm(Number(m[1]), 0, m[2] ?? '', m[3]) },
  // 15:04
  { re: /^(\d{1,2}):(\d{2})(?:\s+([+-]\d{4}))?$/, build: (m) => [Number(m[1]), Number(m[2]), m[3]] },
  // 1504
  { re: /^(\d{2})(\d{2})(?:\s+([+-]\d{4}))?$/, build: (m) => [Number(m[1]), Number(m[2]), m[3]] },
];

function ampm(hour: number, minute: number, marker: string, offset: string | undefined): [number, number, string | undefined] | undefined {
  if (hour < 1 || hour > 12) return undefined;
  const pm = marker.toLowerCase() === 'pm';
  return [(hour % 12) + (pm ? 12 : 0), minute, offset];
}

/** Parses a time of day the way the time resource does (an explicit offset is converted to UTC). */
export function parseTimeOfDay(text: string, field: string): TimeOfDay {
  const trimmed = text.trim();
  for (const { re, build } of TIME_FORMATS) {
    const m = trimmed.match(re);
    if (!m) continue;
    const parsed = build(m);
    if (!parsed) break;
    const [hour, minute, offset] = parsed;
    if (hour > 23 || minute > 59) break;
    let minutes = hour * 60 + minute;
    if (offset) {
      const sign = offset.startsWith('-') ? -1 : 1;
      const offMinutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5));
      minutes -= sign * offMinutes;
    }
    return ((minutes % 1440) + 1440) % 1440;
  }
  throw new ResourceError(
    `invalid source.${field}: invalid time format: ${text}, must be one of: 3:04 PM -0700, 3PM -0700, 3 PM -0700, 15:04 -0700, 1504 -0700, 3:04 PM, 3PM, 3 PM, 15:04, 1504`,
  );
}

const DAY_NAMES: Record<string, number> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tuesday: 2, wed: 3, wednesday: 3,
  thu: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

export interface TimeSource {
  interval: number | undefined;
  start: TimeOfDay | undefined;
  stop: TimeOfDay | undefined;
  location: string;
  days: number[];
  initialVersion: boolean;
  /** An instant; versions only after it. */
  startAfter: number | undefined;
}

export function parseTimeSource(raw: CheckRequest['source'] | undefined): TimeSource {
  const f = new Fields(raw ?? {}, 'source');
  const location = f.string('location') ?? 'UTC';
  formatter(location); // validates the zone

  let interval: number | undefined;
  const intervalText = f.string('interval');
  if (intervalText !== undefined) {
    interval = parseGoDuration(intervalText);
    if (interval === undefined) throw new ResourceError(`invalid source.interval: time: invalid duration "${intervalText}"`);
    if (interval <= 0) throw new ResourceError(`invalid source.interval: must be positive, got "${intervalText}"`);
  }

  const startText = f.string('start');
  const stopText = f.string('stop');
  if ((startText === undefined) !== (stopText === undefined)) {
    throw new ResourceError(startText !== undefined ? "must configure 'stop' if 'start' is set" : "must configure 'start' if 'stop' is set");
  }

  const days = (f.stringList('days') ?? []).map((d) => {
    const n = DAY_NAMES[d.toLowerCase()];
    if (n === undefined) throw new ResourceError(`invalid source.days: unknown weekday: ${d}`);
    return n;
  });

  let startAfter: number | undefined;
  const startAfterText = f.string('start_after');
  if (startAfterText !== undefined) {
    const m = startAfterText.match(/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/);
    if (!m) throw new ResourceError(`invalid source.start_after: invalid date format: ${startAfterText}`);
    const at = zonedInstant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), location);
    startAfter = at + Number(m[6] ?? 0) * 1000;
  }

  return {
    interval,
    start: startText !== undefined ? parseTimeOfDay(startText, 'start') : undefined,
    stop: stopText !== undefined ? parseTimeOfDay(stopText, 'stop') : undefined,
    location,
    days,
    initialVersion: f.bool('initial_version'),
    startAfter,
  };
}

// ---------------------------------------------------------------------------------------------
// The schedule (the time resource's "time lord").

/** The latest daily [start, stop) range that starts at or before `reference`. */
export function latestRangeBefore(src: TimeSource, reference: number): [number, number] {
  const startTod = src.start ?? 0;
  const stopTod = src.stop ?? 0;
  const w = wallTime(reference, src.location);
  let start = zonedInstant(w.year, w.month, w.day, Math.floor(startTod / 60), startTod % 60, src.location);
  let startDay = Date.UTC(w.year, w.month - 1, w.day);
  if (start > reference) {
    startDay -= DAY_MS;
    const d = new Date(startDay);
    start = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), Math.floor(startTod / 60), startTod % 60, src.location);
  }
  const sd = new Date(startDay);
  let stop = zonedInstant(sd.getUTCFullYear(), sd.getUTCMonth() + 1, sd.getUTCDate(), Math.floor(stopTod / 60), stopTod % 60, src.location);
  if (stop <= start) {
    const nd = new Date(startDay + DAY_MS);
    stop = zonedInstant(nd.getUTCFullYear(), nd.getUTCMonth() + 1, nd.getUTCDate(), Math.floor(stopTod / 60), stopTod % 60, src.location);
  }
  return [start, stop];
}

function daysMatch(src: TimeSource, at: number): boolean {
  if (src.days.length === 0) return true;
  return src.days.includes(wallTime(at, src.location).weekday);
}

/** Whether a new version is due at `now`, given the previous version's time. */
export function isDue(src: TimeSource, now: number, previous: number | undefined): boolean {
  if (!daysMatch(src, now)) return false;
  if (src.startAfter !== undefined && !(src.startAfter < now)) return false;

  const windowed = src.start !== undefined;
  const [start, stop] = latestRangeBefore(src, now);
  if (windowed && (now < start || now >= stop)) return false;

  if (previous === undefined) return true;
  if (src.interval !== undefined) return now - previous >= src.interval;
  if (windowed) return previous < start;
  return false;
}

// ---------------------------------------------------------------------------------------------

function parseVersionTime(version: Version | null | undefined): number | undefined {
  const text = version?.time;
  if (text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ResourceError(`invalid version.time: ${text}`);
  return ms;
}

async function check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
  const src = parseTimeSource(req.source);
  const now = nowOf(ctx).getTime();
  const previous = parseVersionTime(req.version);
  const versions: Version[] = [];
  if (previous !== undefined && req.version) {
    versions.push({ time: req.version.time ?? '' });
  } else if (src.initialVersion) {
    return [{ time: formatRfc3339(now, src.location) }];
  }
  if (isDue(src, now, previous)) versions.push({ time: formatRfc3339(now, src.location) });
  return versions;
}

async function get(req: InRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const src = parseTimeSource(req.source);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'input'), `${JSON.stringify(req)}\n`);
  const given = parseVersionTime(req.version);
  const version: Version =
    given !== undefined && req.version.time !== undefined ? { time: req.version.time } : { time: formatRfc3339(nowOf(ctx).getTime(), src.location) };
  await writeFile(join(dir, 'timestamp'), version.time ?? '');
  return { version, metadata: [] };
}

async function put(req: OutRequest, _dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const src = parseTimeSource(req.source);
  return { version: { time: formatRfc3339(nowOf(ctx).getTime(), src.location) }, metadata: [] };
}

export const timeResource: ResourceTypeImpl = { name: 'time', check, in: get, out: put };
export default timeResource;
