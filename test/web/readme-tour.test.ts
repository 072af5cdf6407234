// The README's "A short tour", command by command, against a fresh `jetway web`, so the README
// cannot drift from what Jetway does. The block is read from README.md: every line is a test,
// in order. `jetway …` commands run in this process (the same program as bin/jetway.js, and
// fast), `jetway web` runs as a process of its own, other lines (cp, curl) run in bash. The
// tour runs in a temporary folder holding the checkout's examples/ and bin/, as the reader's
// checkout does; port 8080 becomes a free port; the web node's database is a test database
// (JETWAY_POSTGRES_URL, which `jetway web` and `jetway migrate` read) instead of initialising
// an embedded cluster; prompts are answered "y", as a reader would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { freePort } from '../../src/db/embedded.ts';
import { runCli } from '../../src/cli/program.ts';
import { setPromptInput } from '../../src/cli/client/common.ts';
import { capture } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitForHealth } from '../support/web-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The lines of the first sh block after "## A short tour", comments and blank lines left out. */
export function tourCommands(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## A short tour'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md: no sh block under "## A short tour"');
  return block
    .split('\n')
    .map((line) => line.replace(/(^|\s+)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** Shell words of a simple command line (quotes, no expansions). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

interface Expectation {
  /** exit status (default 0) */
  code?: (code: number) => boolean;
  out?: RegExp;
  err?: RegExp;
}

/** What some commands must print, by the start of the command (after the port is replaced). */
const EXPECTED: [string, Expectation][] = [
  ['jetway validate-pipeline -c examples/hello.yml', { out: /looks good/ }],
  ['jetway validate-pipeline -c pipeline.yml', { out: /"valid": true/ }],
  ['jetway format-pipeline', { out: /resources:/ }],
  ['jetway migrate --status', { out: /0001_initial\s+applied/ }],
  ['jetway login -t ci', { out: /target saved/ }],
  ['jetway set-pipeline', { out: /pipeline created!|configuration updated/ }],
  ['jetway trigger-job', { out: /hello from jetway -- tests passed[\s\S]*succeeded\n$/ }],
  ['jetway builds', { out: /hello\/unit/ }],
  ['jetway resources', { out: /source-code\s+mock\s+n\/a\s+succeeded/ }],
  ['jetway resource-versions', { out: /initial_version:v1|version:v1/ }],
  ['jetway targets', { out: /ci\s/ }],
  ['jetway curl', { out: /"version"/ }],
  ['jetway login -t web', { out: /logging in to team 'web'[\s\S]*target saved/ }],
  ['jetway teams -t ci --details', { out: /web[\s\S]*alice/ }],
  ['curl', { out: /jetway_builds_finished_total/ }],
  // the README says so: on the local runtime nothing is kept to intercept
  ['jetway intercept', { code: (c) => c !== 0, err: /local runtime/ }],
];

let dir: string;
let port: number;
let tdb: TestDatabase;
let web: ChildProcess | undefined;
let webOutput = '';
const savedHome = process.env.HOME;
const savedCwd = process.cwd();
const savedUrl = process.env.JETWAY_POSTGRES_URL;

before(async () => {
  tdb = await createTestDatabase();
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'jw-tour-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  symlinkSync(join(ROOT, 'bin'), join(dir, 'bin'));
  process.chdir(dir);
  process.env.HOME = dir;
  process.env.JETWAY_POSTGRES_URL = tdb.url;
  delete process.env.JETWAY_TARGET;
});
after(async () => {
  if (web && web.exitCode === null) {
    web.kill('SIGTERM');
    await new Promise((r) => web?.once('exit', r));
  }
  setPromptInput(undefined);
  process.chdir(savedCwd);
  process.env.HOME = savedHome;
  if (savedUrl === undefined) delete process.env.JETWAY_POSTGRES_URL;
  else process.env.JETWAY_POSTGRES_URL = savedUrl;
  await tdb.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function startWeb(argv: string[]): Promise<void> {
  web = spawn(process.execPath, [join(ROOT, 'bin', 'jetway.js'), ...argv], {
    cwd: dir,
    env: { ...process.env, JETWAY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  web.stdout?.on('data', (c: Buffer) => (webOutput += c.toString()));
  web.stderr?.on('data', (c: Buffer) => (webOutput += c.toString()));
  await waitForHealth(`http://127.0.0.1:${port}`, { child: web, output: () => webOutput });
}

async function runPart(part: string): Promise<{ code: number; out: string; err: string }> {
  const argv = words(part);
  if (argv[0] === 'jetway') {
    if (argv[1] === 'web') {
      await startWeb(argv.slice(1));
      return { code: 0, out: '', err: '' };
    }
    const io = capture();
    setPromptInput(Readable.from(['y\n']));
    try {
      return { code: await runCli(argv.slice(1), io), out: io.out, err: io.err };
    } finally {
      setPromptInput(undefined);
    }
  }
  const r = spawnSync('bash', ['-c', part], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

const commands = tourCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));

test('the tour has the commands it is known for', () => {
  for (const must of ['jetway web', 'jetway login -t ci', 'jetway trigger-job', 'jetway set-team', 'jetway login -t web', 'curl -s']) {
    assert.ok(commands.some((c) => c.startsWith(must)), `${must} in the tour`);
  }
});

for (const line of commands) {
  test(`$ ${line}`, async () => {
    if (line.startsWith('alias jetway=')) return; // the commands below run the same program
    const command = line.replaceAll('8080', () => String(port));
    for (const part of command.split(' && ')) {
      const r = await runPart(part);
      const want = EXPECTED.find(([prefix]) => part.startsWith(prefix))?.[1] ?? {};
      const shown = `$ ${part}\nexit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
      assert.ok((want.code ?? ((c: number) => c === 0))(r.code), shown);
      if (want.out) assert.match(r.out, want.out, shown);
      if (want.err) assert.match(r.err, want.err, shown);
    }
  });
}
