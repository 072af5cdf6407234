// Shared helpers for the resource type tests: temp dirs, log capture, real git repositories
// (independent of the machine's git config), and running the protocol entry point as a process.
import { execFileSync, spawn } from 'node:child_process';
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
