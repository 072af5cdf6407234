// Shared pieces of the client commands: the target flag, turning API errors into exit codes,
// aligned tables, --output json, prompts, and name parsing (pipeline/job).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { ApiClient, ApiRequestError } from './http.ts';
import { parseJobFlag, varsQuery, type PipelineRef } from './pipeline-ref.ts';
import { getTarget, type Target } from './targets.ts';

export interface TargetOption {
  target?: string;
}

export function addTargetOption(cmd: Command): Command {
  return cmd.option('-t, --target <name>', 'target (saved by jetway login; default $JETWAY_TARGET)');
}

export interface Connection {
  name: string;
  target: Target;
  client: ApiClient;
  team: string;
}

let globalTarget: string | undefined;

/** The target given before the command (`jetway -t ci pipelines`), as fly allows. */
export function setGlobalTarget(name: string | undefined): void {
  globalTarget = name;
}

/** The command's -t, else the global -t, else $JETWAY_TARGET. */
export function targetName(opts: TargetOption): string | undefined {
  return opts.target ?? globalTarget ?? process.env.JETWAY_TARGET;
}

export function connect(opts: TargetOption): Connection {
  const name = targetName(opts);
  const target = getTarget(name);
  return { name: name ?? '', target, client: ApiClient.forTarget(name ?? '', target), team: target.team };
}

/** Runs a command body; API failures become `error: <server message> (HTTP <status>)` and exit 1. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiRequestError) throw new CliExit(1, `error: ${err.message} (HTTP ${err.status})`);
    throw err;
  }
}

/** A repeatable option's values (commander's argParser for `-v a -v b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const enc = encodeURIComponent;

/**
 * A pipeline's API path, then `rest` (a sub-path and maybe a query); an instanced pipeline's vars
 * go in the query, after `rest`'s own parameters.
 */
export function pipelinePath(team: string, pipeline: string | PipelineRef, rest = ''): string {
  const ref = typeof pipeline === 'string' ? { name: pipeline } : pipeline;
  return `/api/v1/teams/${enc(team)}/pipelines/${enc(ref.name)}${rest}${varsQuery(ref, rest)}`;
}

/** `pipeline[/key:value,...]/job` (or `/resource`) → the pipeline and the name; anything else is a usage error. */
export function splitFlag(value: string | undefined, flag: string, what: string): [PipelineRef, string] {
  return parseJobFlag(value, flag, what);
}

export function requireOption<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw usageError(`error: required option ${flag} not specified`);
  return value;
}

export type OutputOptions = { output?: string; json?: boolean };

export function addOutputOptions(cmd: Command): Command {
  return cmd.option('-o, --output <format>', 'output format: table or json').option('--json', 'same as --output json');
}

export function wantsJson(opts: OutputOptions, formats: string[] = ['table', 'json']): boolean {
  if (opts.json) return true;
  if (opts.output === undefined) return false;
  if (!formats.includes(opts.output)) throw usageError(`error: unknown output format '${opts.output}' (expected ${formats.join(' or ')})`);
  return opts.output === 'json';
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

let tableHeaders = true;

/**
 * Whether tables print their header row: as fly (fly/ui/table.go), only when stdout is a
 * terminal or `--print-table-headers` is given, so scripts read rows only.
 */
export function setTableHeaders(show: boolean): void {
  tableHeaders = show;
}

/** Columns padded to the widest cell; the last column is not padded. */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = tableHeaders ? [headers, ...rows] : rows;
  const widths = headers.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function formatTime(unixSeconds: unknown): string {
  if (typeof unixSeconds !== 'number') return 'n/a';
  return new Date(unixSeconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The local UTC offset of a time, as Go's `-0700`. */
function goOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

const localDate = (d: Date): string => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
const localClock = (d: Date): string => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;

/** `2024-01-31@13:04:05+0100` in local time: fly's timeDateLayout for build times (fly/commands/builds.go). */
export function flyBuildTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${localDate(d)}@${localClock(d)}${goOffset(d)}`;
}

/**
 * `2024-01-31 13:04:05 +0100 CET` in local time: Go's time.Time String() of a whole second, as
 * fly prints a pipeline's last update. The zone's abbreviation is the platform's (Intl), which
 * for some zones is `GMT+1` where Go's tz database says `CET`.
 */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? goOffset(d);
  return `${localDate(d)} ${localClock(d)} ${goOffset(d)} ${zone}`;
}

/**
 * A duration as Go's time.Duration String() prints it, from milliseconds: `0s`, `500ms`, `45s`,
 * `1m5s`, `2h0m3.5s` (fly's build durations, component intervals, wall TTLs).
 */
export function goDuration(ms: number): string {
  if (ms < 0) return `-${goDuration(-ms)}`;
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const secs = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}

/** Go's time.RFC1123 of a UTC time, `Mon, 02 Jan 2006 15:04:05 UTC` (fly targets' expiry). */
export function rfc1123Utc(date: Date): string {
  return date.toUTCString().replace(/GMT$/, 'UTC');
}

/** Rows sorted by their first cell, as fly's ui.Data sort (byte order, stable for equal cells). */
export function sortByFirstCell(rows: string[][]): string[][] {
  return [...rows].sort((a, b) => {
    const x = a[0] ?? '';
    const y = b[0] ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export const yesNo = (b: unknown): string => (b === true ? 'yes' : 'no');

/** Asks a yes/no question on stdin (default no); end of input is no. */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  io.stdout(`${question} [yN]: `);
  const answer = await readLine();
  return /^y(es)?$/i.test(answer.trim());
}

let promptInput: NodeJS.ReadableStream | undefined;

/** Where prompts read answers from (default: process.stdin); for tests and embedding. */
export function setPromptInput(input: NodeJS.ReadableStream | undefined): void {
  promptInput = input;
}

export function readLine(): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: promptInput ?? process.stdin, terminal: false });
    let done = false;
    rl.once('line', (line) => {
      done = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!done) resolve('');
    });
  });
}

/** Reads a password without echoing it when stdin is a terminal. */
export function readPassword(io: CliIO, prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (promptInput || !stdin.isTTY) return readLine();
  io.stderr(prompt);
  return new Promise((resolve) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          io.stderr('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          process.exit(130);
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
