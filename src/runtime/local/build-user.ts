// The unprivileged user the local runtime runs builds as when the web node is root (issue 16,
// finding 4): `jetway-build`, a system user with its own group, no home and no shell, created
// the first time (idempotent: an existing one is used as it is, and a concurrent creation is fine).
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../../log.ts';
import { resourceCommand } from '../../resources/command.ts';
import { promisify } from 'node:util';
import type { BuildUser } from './local-runtime.ts';

const run = promisify(execFile);

export const BUILD_USER = 'jetway-build';

/** A problem creating or finding the build user: one line saying what to do. */
export class BuildUserError extends Error {
  override name = 'BuildUserError';
}

async function lookup(name: string): Promise<BuildUser | undefined> {
  try {
    const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    const uid = Number.parseInt(u.stdout, 10);
    const gid = Number.parseInt(g.stdout, 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** The build user, created when missing; refuses one that is root (uid or gid 0). */
export async function ensureBuildUser(name = BUILD_USER): Promise<BuildUser> {
  let user = await lookup(name);
  if (!user) {
    // a failure (exit 9: another web node created it meanwhile) is judged by the lookup after it
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]).catch(() => undefined);
    user = await lookup(name);
    if (!user) {
      throw new BuildUserError(
        `the local runtime runs builds as the user ${name}, and creating it failed: create it (useradd --system --user-group ${name}) and start again, or run the web node as a user other than root`,
      );
    }
  }
  if (user.uid === 0 || user.gid === 0) throw new BuildUserError(`the build user ${name} is root (uid ${user.uid}, gid ${user.gid}): give it its own uid and gid`);
  return user;
}

/**
 * The web node's data directory, out of the build user's reach: the directory itself is
 * traverse-only (0711: the build user must pass through it to its work under `shared`, and the
 * postgres user to its cluster), and every other entry loses group and other permissions (the
 * embedded Postgres's credentials, uploaded artifacts, a quickstart's password file). `private`
 * entries are made first, 0700, so nothing the web node writes there later is readable either.
 * Without a build user (the web node is not root) the directory is simply 0700.
 */
export async function isolateDataDir(dataDir: string, user: BuildUser | undefined, shared: string, own: string[], logger: Logger = silentLogger): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if (user) {
    // the build user reaches its work dir's absolute paths (caches, artifact images) through
    // every parent: parents such as /root (0700) get the traverse-only bit, as for the postgres user
    for (let d = dirname(resolve(dataDir)); ; d = dirname(d)) {
      const st = await stat(d);
      if ((st.mode & 0o001) === 0) {
        logger.warn({ dir: d }, 'giving the build user traverse permission (o+x) on a parent of the data directory');
        await chmod(d, (st.mode & 0o7777) | 0o001);
      }
      if (dirname(d) === d) break;
    }
  }
  for (const name of own) await mkdir(join(dataDir, name), { recursive: true, mode: 0o700 });
  for (const entry of await readdir(dataDir)) {
    if (entry === shared) continue;
    const st = await lstat(join(dataDir, entry));
    if (!st.isSymbolicLink() && (st.mode & 0o077) !== 0) await chmod(join(dataDir, entry), st.mode & 0o7700);
  }
  const st = await lstat(dataDir);
  // the embedded Postgres (as root) keeps o+x on the directory for the postgres user
  await chmod(dataDir, user || (st.mode & 0o001) !== 0 ? 0o711 : 0o700);
}

/**
 * Whether the build user can run the built-in resource types: node and Jetway's files they load
 * must be readable by it. A checkout under a private folder (/root/jetway) is not; better said at
 * start-up, naming the file, than as every get failing with EACCES.
 */
export async function checkBuildUserCanRunResources(user: BuildUser): Promise<void> {
  const { command, args } = resourceCommand('mock', 'check');
  const files = args.flatMap((a) => (a.startsWith('/') ? [a] : a.startsWith('file://') ? [fileURLToPath(a)] : []));
  const probe = 'const fs = require("fs"); for (const f of process.argv.slice(1)) { try { fs.accessSync(f, fs.constants.R_OK); } catch { console.log(f); process.exit(1); } }';
  try {
    await run(command, ['-e', probe, ...files], { uid: user.uid, gid: user.gid, env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout?.trim();
    throw new BuildUserError(
      `the build user ${user.name} cannot read ${stdout || command}, which the built-in resource types need: install Jetway where other users can read it (not under a private folder such as /root), or run the web node as a user other than root`,
    );
  }
}
