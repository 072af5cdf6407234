// Runs the test suite on node:test. Node 20's runner takes no globs, so this finds the test
// files itself (test/**/*.test.ts, or the paths given as arguments) and runs them in one
// `node --test` process tree.
//
// Tests use a real Postgres: this starts ONE embedded Postgres for the whole run (a temporary
// data directory, a free port), passes its URL to the test processes as
// JETWAY_TEST_POSTGRES_URL (test/support/db.ts makes a fresh database per test file from it),
// and stops and removes it at the end, also on failure or Ctrl-C. When
// JETWAY_TEST_POSTGRES_URL is already set, that server is used instead.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedPostgres, stopEmbeddedPostgresOnlyWhenClosed, type EmbeddedServer } from '../src/db/embedded.ts';
import { defaultLogger } from '../src/log.ts';

function findTests(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return findTests(child);
      return entry.name.endsWith('.test.ts') ? [child] : [];
    })
    .sort();
}

// `npm test` runs test/ except the suites that take minutes, each with its own command (CI runs
// them after `npm test`): the Kubernetes end-to-end suite and the test cluster's own tests
// (test/cluster/, test/kube-sim/: `npm run test:cluster`), the web UI in chromium (test/browser/:
// `npm run test:browser`) and the local runtime's runc containers (test/containers/:
// `npm run test:containers`).
const SEPARATE_SUITES = ['cluster', 'kube-sim', 'browser', 'containers'].map((dir) => resolve('test', dir) + '/');
const roots = process.argv.slice(2);
const files =
  roots.length > 0
    ? roots.flatMap((root) => findTests(resolve(root)))
    : findTests(resolve('test')).filter((file) => !SEPARATE_SUITES.some((suite) => file.startsWith(suite)));
// The files that take minutes start first: in name order the slowest (test/web/web-process)
// started last and ran alone for minutes at the end of the run, with the other workers idle.
const SLOW_FIRST = ['web/web-process', 'web/startup-failures', 'integration/testflight', 'resources/in-process', 'resources/git', 'security/local-runtime', 'web/readme-tour', 'web/check-errors'].map((name) => resolve('test', `${name}.test.ts`));
files.sort((a, b) => rank(a) - rank(b));
function rank(file: string): number {
  const i = SLOW_FIRST.indexOf(file);
  return i === -1 ? SLOW_FIRST.length : i;
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Test files run three at a time: on two cores most of a file's time is waiting (for Postgres,
// child processes, timers), so a third file keeps the cores busy. JETWAY_TEST_CONCURRENCY
// overrides it (1 to debug one file's interplay with nothing else).
const concurrency = Number.parseInt(process.env.JETWAY_TEST_CONCURRENCY ?? '3', 10);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`JETWAY_TEST_CONCURRENCY: '${process.env.JETWAY_TEST_CONCURRENCY}' is not a positive whole number`);
  process.exit(2);
}

const env: NodeJS.ProcessEnv = { ...process.env, JETWAY_LOG_LEVEL: process.env.JETWAY_LOG_LEVEL ?? 'warn' };
let server: EmbeddedServer | undefined;
let tempDir: string | undefined;

async function cleanup(): Promise<void> {
  const s = server;
  server = undefined;
  if (s) await s.stop().catch((err: unknown) => console.error('stopping the test Postgres failed:', err));
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

if (!process.env.JETWAY_TEST_POSTGRES_URL) {
  tempDir = mkdtempSync(join(tmpdir(), 'jetway-test-pg-'));
  chmodSync(tempDir, 0o755); // the postgres user (when run as root) must traverse it
  // this script stops the server itself on SIGINT/SIGTERM, once the test processes have ended
  stopEmbeddedPostgresOnlyWhenClosed();
  try {
    server = await startEmbeddedPostgres({
      dataDir: join(tempDir, 'data'),
      persistent: false,
      logger: defaultLogger(env.JETWAY_LOG_LEVEL ?? 'warn').child({ component: 'test-runner' }),
    });
  } catch (err) {
    console.error(`could not start the test Postgres: ${err instanceof Error ? err.message : String(err)}`);
    console.error('(or give a server of your own: JETWAY_TEST_POSTGRES_URL=postgres://user:password@host:port/postgres)');
    await cleanup();
    process.exit(1);
  }
  env.JETWAY_TEST_POSTGRES_URL = server.url;
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // the child gets SIGINT from the terminal too; make sure it ends, then clean up on its exit
    interrupted = true;
    if (child.exitCode === null) child.kill(signal);
  });
}

child.on('exit', (code, signal) => {
  // An explicit exit, with the suite's status.
  void cleanup().then(() => process.exit(code ?? (signal || interrupted ? 1 : 0)));
});
