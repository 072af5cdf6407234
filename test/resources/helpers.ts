// Shared helpers for the resource type tests: temp dirs, log capture, real git repositories
// (independent of the machine's git config), and running the protocol entry point as a process.
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { makeContext, resourceCommand, type ResourceContext, type ResourceScript } from '../../src/resources/index.ts';

// Git must not read the machine's system or global config.
process.env.GIT_CONFIG_NOSYSTEM = '1';
process.env.GIT_CONFIG_GLOBAL = '/dev/null';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'jetway-res-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A context whose logs are collected in `logs()`. */
export function capture(partial: Partial<ResourceContext> = {}): { ctx: ResourceContext; logs: () => string } {
  let text = '';
  const ctx = makeContext({ ...partial, stderr: { write: (chunk: string) => (text += chunk) } });
  return { ctx, logs: () => text };
}

// ---- git ------------------------------------------------------------------------------------

let clock = Date.UTC(2024, 0, 1, 12, 0, 0) / 1000;

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A new repository with an identity of its own (branch `main`). */
export function initRepo(dir = tempDir('jetway-git-repo-'), bare = false): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '-b', 'main', ...(bare ? ['--bare'] : []));
  git(dir, 'config', 'user.name', 'Test Author');
  git(dir, 'config', 'user.email', 'author@example.com');
  git(dir, 'config', 'commit.gpgsign', 'false');
  return dir;
}

/** Writes files and commits them (each commit one minute after the previous); returns the sha. */
export function commit(repo: string, files: Record<string, string>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  clock += 60;
  const date = `@${clock} +0000`;
  execFileSync('git', ['add', '-A'], { cwd: repo });
  execFileSync('git', ['commit', '--quiet', '--allow-empty', '-m', message], {
    cwd: repo,
    env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
  return git(repo, 'rev-parse', 'HEAD');
}

/** A lightweight tag dated like a commit made now (tags sort by creator date). */
export function tag(repo: string, name: string, ref = 'HEAD'): void {
  clock += 60;
  execFileSync('git', ['tag', name, ref], { cwd: repo, env: { ...process.env, GIT_COMMITTER_DATE: `@${clock} +0000` } });
}

export function fileUri(path: string): string {
  return `file://${path}`;
}

// ---- processes ------------------------------------------------------------------------------

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => unknown;
}

/** Runs `cli.ts <type> <script> [dir]` as a real process (cwd: a fresh temp dir), request on stdin. */
export function runResource(
  type: string,
  script: ResourceScript,
  request: unknown,
  opts: { dir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProcessResult> {
  const { command, args } = resourceCommand(type, script, opts.dir);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: tempDir('jetway-cwd-'), env: { ...process.env, ...opts.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as unknown }));
    child.stdin.end(typeof request === 'string' ? request : JSON.stringify(request));
  });
}

/** Serves the repositories under `root` over smart HTTP (git http-backend), requiring Basic auth. */
export async function gitHttpServer(
  root: string,
  user: string,
  password: string,
): Promise<{ url: string; server: Server; authorized: () => number; requests: () => string[] }> {
  let authorized = 0;
  // what each authorized request asked for: `GET <path>` or `POST <path> <command>` (protocol v2's command, or v0's first line)
  const requests: string[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    authorized++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const seen = requests.push(`${req.method} ${url.pathname}`) - 1;
    if (req.method === 'POST') {
      const head: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        if (head.length < 4) head.push(c);
        const text = Buffer.concat(head).toString('latin1');
        const command = /command=([a-z-]+)/.exec(text)?.[1] ?? (/want [0-9a-f]{40}/.test(text) ? 'want' : undefined);
        if (command) requests[seen] = `${req.method} ${url.pathname} ${command}`;
      });
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: user,
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    cgi.on('close', () => {
      const out = Buffer.concat(chunks);
      const split = out.indexOf('\r\n\r\n');
      const head = out.subarray(0, split).toString('utf8');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n')) {
        const at = line.indexOf(':');
        const name = line.slice(0, at).trim();
        const value = line.slice(at + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else if (name) headers[name] = value;
      }
      res.writeHead(status, headers).end(out.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, authorized: () => authorized, requests: () => [...requests] };
}
