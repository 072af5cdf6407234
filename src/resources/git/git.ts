// Running the `git` binary for the git resource: credentials (an askpass script for
// username/password, a 0600 key file and GIT_SSH_COMMAND for private_key, git_config through the
// environment), a temporary workspace removed afterwards, and redaction of secrets from
// everything that reaches logs or errors. No secret is ever an argument of git: any local user
// can read a process's arguments (/proc/<pid>/cmdline), only its own user its environment
// (docs/security.md "Secrets").
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../command.ts';
import { ResourceError, type LogSink } from '../protocol.ts';

export interface GitCredentials {
  username?: string | undefined;
  password?: string | undefined;
  privateKey?: string | undefined;
  privateKeyPassphrase?: string | undefined;
  /**
   * source.git_config: set through git's environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n), never as
   * `-c name=value` arguments: a value may be a secret (an `http.extraHeader` with a token), and
   * every local user can read a process's arguments in /proc.
   */
  config?: readonly { name: string; value: string }[] | undefined;
}

/** Bounds of a session that runs inside the web node (src/resources/in-process.ts). */
export interface GitSessionLimits {
  /** GIT_ALLOW_PROTOCOL: the transports git may use (e.g. `https:http:ssh:git`, never `file` or `ext`) */
  allowProtocols?: string;
  /** the most bytes of stdout or stderr one git command may print; more ends it with an error */
  maxOutputBytes?: number;
}

export interface GitRunOptions {
  cwd?: string;
  /** Echo git's stderr to the log sink (redacted). Default: kept for error messages only. */
  log?: boolean;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  stdin?: string;
  /** stops this command too (besides the session's signal) */
  signal?: AbortSignal;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Removes `user:password@` from URLs and every known secret from a text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+):([^/@\s]*)@/gi, '$1$2:((redacted))@');
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out = out.split(secret).join('((redacted))');
    // A multi-line secret (a private key) may also show up line by line.
    for (const line of secret.split('\n')) {
      if (line.trim().length >= 8) out = out.split(line).join('((redacted))');
    }
  }
  return out;
}

/** A temporary workspace holding the credential files, and a runner for git inside it. */
export class GitSession {
  private constructor(
    readonly workdir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly secrets: string[],
    private readonly logSink: LogSink,
    private readonly signal: AbortSignal,
    private readonly limits: GitSessionLimits = {},
  ) {}

  static async open(creds: GitCredentials, logSink: LogSink, signal: AbortSignal, limits: GitSessionLimits = {}): Promise<GitSession> {
    const workdir = await mkdtemp(join(tmpdir(), 'jetway-git-'));
    await chmod(workdir, 0o700);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
      // Never let git open an editor or pager.
      GIT_EDITOR: 'true',
      GIT_PAGER: 'cat',
    };
    delete env.GIT_DIR;
    delete env.GIT_WORK_TREE;
    if (limits.allowProtocols !== undefined) {
      // overrides every protocol.* setting, the machine's and source.git_config's alike
      env.GIT_ALLOW_PROTOCOL = limits.allowProtocols;
    }
    const secrets: string[] = [];
    const config: { name: string; value: string }[] = [];
    try {
      if (creds.password !== undefined && creds.password !== '') secrets.push(creds.password);
      if (creds.privateKey !== undefined && creds.privateKey !== '') secrets.push(creds.privateKey);
      if (creds.privateKeyPassphrase) secrets.push(creds.privateKeyPassphrase);

      if (creds.username !== undefined || creds.password !== undefined) {
        // git asks the askpass program for "Username for '...'" and "Password for '...'"; the
        // values travel in the environment of git's children only, never on a command line.
        const askpass = join(workdir, 'askpass.sh');
        await writeFile(
          askpass,
          '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$JETWAY_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$JETWAY_GIT_PASSWORD" ;;\nesac\n',
          { mode: 0o700 },
        );
        env.GIT_ASKPASS = askpass;
        env.SSH_ASKPASS = askpass;
        env.JETWAY_GIT_USERNAME = creds.username ?? '';
        env.JETWAY_GIT_PASSWORD = creds.password ?? '';
        // Do not let a credential helper from the machine's config store or answer instead.
        config.push({ name: 'credential.helper', value: '' });
      }
      for (const entry of creds.config ?? []) {
        config.push(entry);
        // a config value long enough to be a token is kept out of logs too
        if (entry.value.length >= 8) secrets.push(entry.value);
      }
      if (config.length > 0) {
        env.GIT_CONFIG_COUNT = String(config.length);
        config.forEach((entry, i) => {
          env[`GIT_CONFIG_KEY_${i}`] = entry.name;
          env[`GIT_CONFIG_VALUE_${i}`] = entry.value;
        });
      }

      if (creds.privateKey !== undefined && creds.privateKey !== '') {
        const keyPath = join(workdir, 'private_key');
        const key = creds.privateKey.endsWith('\n') ? creds.privateKey : `${creds.privateKey}\n`;
        await writeFile(keyPath, key, { mode: 0o600 });
        await chmod(keyPath, 0o600);
        env.GIT_SSH_COMMAND = [
          'ssh',
          '-i',
          shellQuote(keyPath),
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'LogLevel=ERROR',
        ].join(' ');
        if (creds.privateKeyPassphrase) {
          const askpass = join(workdir, 'ssh-askpass.sh');
          await writeFile(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$JETWAY_SSH_PASSPHRASE"\n', { mode: 0o700 });
          env.SSH_ASKPASS = askpass;
          env.SSH_ASKPASS_REQUIRE = 'force';
          env.DISPLAY = env.DISPLAY ?? ':0';
          env.JETWAY_SSH_PASSPHRASE = creds.privateKeyPassphrase;
        }
      }
    } catch (err) {
      await rm(workdir, { recursive: true, force: true });
      throw err;
    }
    return new GitSession(workdir, env, secrets, logSink, signal, limits);
  }

  /** Removes the workspace (and so the key file and askpass script). */
  async close(): Promise<void> {
    await rm(this.workdir, { recursive: true, force: true });
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  log(text: string): void {
    this.logSink.write(this.redact(text));
  }

  run(args: string[], opts: GitRunOptions = {}): Promise<GitResult> {
    return new Promise((resolvePromise, reject) => {
      const signal = opts.signal ? AbortSignal.any([this.signal, opts.signal]) : this.signal;
      if (signal.aborted) {
        reject(new ResourceError('interrupted'));
        return;
      }
      const child = spawn('git', args, {
        cwd: opts.cwd ?? this.workdir,
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        signal,
      });
      let stdout = '';
      let stderr = '';
      const max = this.limits.maxOutputBytes;
      let overflow = false;
      const bounded = (): void => {
        if (max !== undefined && !overflow && (stdout.length > max || stderr.length > max)) {
          overflow = true;
          child.kill('SIGKILL');
        }
      };
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        bounded();
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        bounded();
        if (opts.log && !overflow) this.log(chunk);
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') reject(new ResourceError('interrupted'));
        else if (err.code === 'ENOENT') reject(new ResourceError('the git binary was not found on PATH'));
        else reject(new ResourceError(`running git failed: ${this.redact(err.message)}`));
      });
      child.on('close', (code) => {
        if (overflow) {
          reject(new ResourceError(`git ${this.redact(describeArgs(args))} printed more than ${max} bytes: stopped`));
          return;
        }
        const result = { code: code ?? 1, stdout, stderr };
        if (result.code !== 0 && !opts.allowFailure) {
          // Output already streamed to the log is summarised by its last line.
          const full = stderr.trim() || stdout.trim();
          const detail = this.redact(opts.log ? (full.split('\n').pop() ?? '') : full);
          reject(new ResourceError(`git ${this.redact(describeArgs(args))} failed (exit ${result.code})${detail ? `:\n${detail}` : ''}`));
          return;
        }
        resolvePromise(result);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? '');
    });
  }

  /** Runs git and returns its trimmed stdout. */
  async output(args: string[], opts: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, opts)).stdout.trim();
  }

  /** Whether git exits 0. */
  async succeeds(args: string[], opts: GitRunOptions = {}): Promise<boolean> {
    return (await this.run(args, { ...opts, allowFailure: true })).code === 0;
  }
}

/** The git sub-command and its flags, for error messages (the URI is redacted separately). */
function describeArgs(args: string[]): string {
  const shown = args.filter((a) => a !== '-c' && !a.startsWith('protocol.'));
  return shown.slice(0, 6).join(' ') + (shown.length > 6 ? ' ...' : '');
}

/** Runs `fn` with a session whose workspace is removed afterwards. */
export async function withGit<T>(
  creds: GitCredentials,
  logSink: LogSink,
  signal: AbortSignal,
  fn: (git: GitSession) => Promise<T>,
  limits: GitSessionLimits = {},
): Promise<T> {
  const git = await GitSession.open(creds, logSink, signal, limits);
  try {
    return await fn(git);
  } finally {
    await git.close();
  }
}
