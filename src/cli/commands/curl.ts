// `jetway curl`: one authenticated request to the target's API, for what no command covers yet
// (`jetway curl -t ci /api/v1/info`). Unlike fly curl it does not run curl: the request is
// made here, with curl's few flags that matter for a JSON API. 2xx prints the body; anything
// else prints it on stderr and exits 1. --print-and-exit shows the request as a curl command
// with the token redacted, never the token itself.
//
// With arguments after `--` (`jetway curl /api/v1/builds -- -sS -i`) it runs curl itself, as
// fly curl does (fly/commands/curl.go), those arguments first and the URL last; the token goes
// to curl in a config file only this user can read (-K), never in curl's arguments, which every
// user of the machine can read in /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { ApiClient } from '../client/http.ts';
import { addTargetOption, connect, run, collect } from '../client/common.ts';

type Options = { target?: string; method?: string; data?: string; header: string[]; printAndExit?: boolean };

/** Where the body comes from: -d's string, or @file / @- (stdin). */
type Data = { kind: 'string'; text: string } | { kind: 'file'; path: string };

/** Headers whose values are credentials: shown redacted by --print-and-exit. */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api-?key/i;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` → [lowercased name, value]; the message never repeats the header, which may hold a secret. */
function parseHeader(spec: string, index: number): [string, string] {
  const i = spec.indexOf(':');
  const name = i > 0 ? spec.slice(0, i).trim() : '';
  if (!HEADER_NAME.test(name)) throw usageError(`error: -H, --header must be 'Name: value' (header ${index + 1} is not)`);
  return [name.toLowerCase(), spec.slice(i + 1).trim()];
}

function parseData(data: string | undefined): Data | undefined {
  if (data === undefined) return undefined;
  if (data.startsWith('@')) {
    const path = data.slice(1);
    if (!path) throw usageError('error: -d, --data @ needs a file name (@file, or @- for stdin)');
    return { kind: 'file', path };
  }
  return { kind: 'string', text: data };
}

async function readData(data: Data, io: CliIO): Promise<Buffer> {
  if (data.kind === 'string') return Buffer.from(data.text);
  if (data.path === '-') {
    const chunks: Buffer[] = [];
    if (io.stdin) for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  try {
    return readFileSync(data.path);
  } catch (err) {
    throw new CliExit(1, `error: -d, --data: cannot read ${data.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** A word for a POSIX shell. */
const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function redact(name: string, value: string): string {
  if (!SECRET_HEADER.test(name)) return value;
  // keep the scheme (`Bearer`), which says what kind of credential it was
  const scheme = /^(\S+)\s+\S/.exec(value)?.[1];
  return scheme ? `${scheme} <redacted>` : '<redacted>';
}

export function curlCommand(method: string, url: string, headers: [string, string][], data: Data | undefined): string {
  const words = ['curl', '-X', method];
  for (const [name, value] of headers) words.push('-H', shellQuote(`${name}: ${redact(name, value)}`));
  if (data?.kind === 'string') words.push('--data-raw', shellQuote(data.text));
  else if (data) words.push('--data-binary', shellQuote(`@${data.path}`));
  words.push(shellQuote(url));
  return words.join(' ');
}

/** Bodies that are text get a final newline when they lack one, so the shell prompt starts on its own line. */
const isText = (contentType: string | null): boolean => /json|text|yaml|xml/i.test(contentType ?? '');

/**
 * The path and query to request: a path, or a full URL on the target's own server (as fly
 * takes one, e.g. from a Link header); a URL elsewhere would carry the token there: refused.
 */
export function requestPath(given: string, targetApi: string): string | undefined {
  if (given.startsWith('/')) return given;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(targetApi).origin) return undefined;
  return `${url.pathname}${url.search}`;
}

/** A curl config file line: the value in double quotes, with curl's escapes. */
const curlConfigValue = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Runs curl with `args` and the URL, the token (if any) in a private config file; resolves with curl's exit status. */
async function runCurl(io: CliIO, args: readonly string[], url: string, token: string | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-curl-'));
  try {
    const config = join(dir, 'auth');
    const argv = [...args];
    if (token) {
      writeFileSync(config, `header = ${curlConfigValue(`Authorization: Bearer ${token}`)}\n`, { mode: 0o600 });
      argv.unshift('-K', config);
    }
    argv.push(url);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn('curl', argv, { stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      child.on('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new CliExit(1, 'error: curl is not installed: jetway curl runs curl for the arguments after --') : err),
      );
      child.stdout?.on('data', (chunk: Buffer) => (io.stdoutBytes ? io.stdoutBytes(chunk) : io.stdout(chunk.toString('utf8'))));
      child.stderr?.on('data', (chunk: Buffer) => (io.stderrBytes ? io.stderrBytes(chunk) : io.stderr(chunk.toString('utf8'))));
      if (io.stdin && child.stdin) io.stdin.pipe(child.stdin);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function registerCurl(program: Command, io: CliIO): void {
  addTargetOption(program.command('curl'))
    .description("Send an authenticated request to the target's API and print the answer's body")
    .argument('<path>', "the API path, with any query string (e.g. /api/v1/info), or a full URL on the target's server")
    .argument('[curl-args...]', 'after --: arguments for curl itself, which then makes the request (fly curl); the token is passed in a private file')
    .option('-X, --method <method>', 'HTTP method (default: GET, or POST with -d)')
    .option('-d, --data <data>', 'request body: a string, @file to send a file as is, or @- for stdin (Content-Type defaults to application/json)')
    .option('-H, --header <header>', "extra request header, 'Name: value' (repeatable; an Authorization header replaces the saved token)", collect, [])
    .option('--print-and-exit', 'print the request as a curl command (the token redacted) instead of sending it')
    .action(async (given: string, curlArgs: string[], opts: Options) => {
      const { name, target } = connect(opts);
      const path = requestPath(given, target.api);
      if (path === undefined) throw usageError("error: <path> must be a path on the target's server, starting with / (e.g. /api/v1/info), or a URL on that server");
      if (curlArgs.length > 0) {
        if (opts.method || opts.data || opts.header.length > 0) throw usageError('error: with curl arguments after --, give -X, -d and -H to curl (after --), not to jetway curl');
        const token = target.token?.value;
        const url = new ApiClient(target.api, token, name).url(path);
        if (opts.printAndExit) {
          io.stdout(`${['curl', ...(token ? ['-H', shellQuote('Authorization: Bearer <redacted>')] : []), ...curlArgs.map(shellQuote), shellQuote(url)].join(' ')}\n`);
          return;
        }
        const code = await runCurl(io, curlArgs, url, token);
        if (code !== 0) throw new CliExit(code);
        return;
      }
      const data = parseData(opts.data);
      const method = (opts.method ?? (data ? 'POST' : 'GET')).toUpperCase();
      if (!/^[A-Z]+$/.test(method)) throw usageError(`error: -X, --method must be an HTTP method such as GET or POST (got '${opts.method ?? ''}')`);
      if (data && (method === 'GET' || method === 'HEAD')) throw usageError(`error: -d, --data cannot be sent with -X ${method}`);
      const headersGiven = new Map(opts.header.map((h, i) => parseHeader(h, i)));
      // the saved token, unless the request brings its own credentials
      const token = headersGiven.has('authorization') ? undefined : target.token?.value;
      const client = new ApiClient(target.api, token, name);
      const headers = new Map<string, string>([['accept', 'application/json']]);
      if (data) headers.set('content-type', 'application/json');
      for (const [n, v] of headersGiven) headers.set(n, v);

      if (opts.printAndExit) {
        const shown = [...headers];
        if (token) shown.push(['authorization', `Bearer ${token}`]);
        io.stdout(`${curlCommand(method, client.url(path), shown, data)}\n`);
        return;
      }
      const body = data ? await readData(data, io) : undefined;
      await run(async () => {
        const res = await client.raw(method, path, Object.fromEntries(headers), body);
        const ok = res.status >= 200 && res.status < 300;
        const text = res.body.toString('utf8');
        const newline = res.body.length > 0 && isText(res.headers.get('content-type')) && !text.endsWith('\n') ? '\n' : '';
        if (ok) {
          if (io.stdoutBytes) io.stdoutBytes(res.body);
          else io.stdout(text);
          if (newline) io.stdout(newline);
          return;
        }
        if (text) io.stderr(`${text}${newline}`);
        const hint = res.status === 401 ? `\n(log in again: jetway login -t ${name})` : '';
        throw new CliExit(1, `error: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${hint}`);
      });
    });
}
