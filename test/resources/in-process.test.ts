// In-process checks (src/resources/in-process.ts, issue 23): the same answers as the scripts.
// Each row of the both-ways tables runs the type's `check` script as a process (cli.ts, the
// request on stdin) AND the in-process checker on the same request, and compares: the same
// versions in the same order, or both failing with the same message. git runs against a real
// repository served over smart HTTP with Basic auth (git http-backend), registry-image against a
// real registry (test/support/registry.ts). Then the decisions (which sources stay in
// containers) and the bounds, one test per row.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryClient, repositoryRef } from '../../src/images/registry-client.ts';
import type { Version } from '../../src/model/version.ts';
import { checkRequestOf, gitUriIsRemote, InProcessChecks, inProcessRefusal, type InProcessCheckOptions } from '../../src/resources/in-process.ts';
import type { JsonObject } from '../../src/resources/protocol.ts';
import { buildTestImage, pushTestImage, startRegistry, type TestRegistry } from '../support/registry.ts';
import { commit, git, gitHttpServer, initRepo, runResource, tag, tempDir } from './helpers.ts';

type Outcome = { ok: true; versions: unknown } | { ok: false; message: string };

interface BothOptions {
  /** JETWAY_RESOURCE_NOW for the script, `now` for the checker */
  now?: string;
  privileged?: boolean;
  /** both fail with a message matching this (git's messages name the command that failed) */
  error?: RegExp;
}

async function scriptOutcome(type: string, request: unknown, opts: BothOptions): Promise<{ outcome: Outcome; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  if (opts.now) env.JETWAY_RESOURCE_NOW = opts.now;
  if (opts.privileged) env.JETWAY_RESOURCE_PRIVILEGED = 'true';
  const r = await runResource(type, 'check', request, { env });
  if (r.code === 0) return { outcome: { ok: true, versions: r.json() }, stderr: r.stderr };
  return { outcome: { ok: false, message: r.stderr.trim().split('\n').pop() ?? '' }, stderr: r.stderr };
}

async function inProcessOutcome(checks: InProcessChecks, type: string, request: { source: unknown; version?: Version }, opts: BothOptions): Promise<{ outcome: Outcome; log: string }> {
  let log = '';
  try {
    const versions = await checks.check(type, request, {
      env: {},
      stderr: { write: (c: string) => (log += c) },
      signal: new AbortController().signal,
      privileged: opts.privileged === true,
      ...(opts.now ? { now: () => new Date(opts.now!) } : {}),
    });
    return { outcome: { ok: true, versions }, log };
  } catch (err) {
    return { outcome: { ok: false, message: (err instanceof Error ? err.message : String(err)).trim().split('\n').pop() ?? '' }, log };
  }
}

/** Runs both and compares; returns the versions (or the message). */
async function both(checks: InProcessChecks, type: string, request: { source: JsonObject; version?: Version }, opts: BothOptions = {}): Promise<Outcome> {
  assert.equal(checks.accepts(type, request.source), true, 'the web node checks this source');
  const [script, inProcess] = await Promise.all([scriptOutcome(type, request, opts), inProcessOutcome(checks, type, request, opts)]);
  if (opts.error) {
    assert.equal(script.outcome.ok, false, `the script fails: ${JSON.stringify(script.outcome)}`);
    assert.equal(inProcess.outcome.ok, false, `the in-process check fails: ${JSON.stringify(inProcess.outcome)}`);
    assert.match(script.stderr, opts.error);
    assert.match(JSON.stringify(inProcess), opts.error);
  } else {
    assert.deepEqual(inProcess.outcome, script.outcome, `script stderr:\n${script.stderr}`);
  }
  return inProcess.outcome;
}

// ---- mock ----------------------------------------------------------------------------------

describe('mock: script and in-process answer the same', { concurrency: 4 }, () => {
  const checks = new InProcessChecks();
  const rows: { name: string; source: JsonObject; version?: Version; privileged?: boolean; expect: Outcome }[] = [
    { name: 'a first check: the default initial version', source: {}, expect: { ok: true, versions: [{ version: 'mock' }] } },
    { name: 'initial_version', source: { initial_version: 'v7' }, expect: { ok: true, versions: [{ version: 'v7' }] } },
    { name: 'no_initial_version: nothing', source: { no_initial_version: true }, expect: { ok: true, versions: [] } },
    { name: 'a given version is answered back', source: { initial_version: 'v1' }, version: { version: 'v3' }, expect: { ok: true, versions: [{ version: 'v3' }] } },
    { name: 'force_version wins over the given version', source: { force_version: 'f1' }, version: { version: 'v3' }, expect: { ok: true, versions: [{ version: 'f1' }] } },
    { name: 'privileged: the version says so', source: {}, privileged: true, expect: { ok: true, versions: [{ version: 'mock', privileged: 'true' }] } },
    { name: 'log: logged, versions as usual', source: { log: 'hello from mock' }, expect: { ok: true, versions: [{ version: 'mock' }] } },
    { name: 'check_failure fails with its message', source: { check_failure: 'boom' }, expect: { ok: false, message: 'intentionally failing to check: boom' } },
    { name: 'an unknown source field is refused', source: { bogus: 1 }, expect: { ok: false, message: 'invalid payload: unknown field "bogus" in source' } },
    { name: 'a malformed check_delay is refused', source: { check_delay: 'soon' }, expect: { ok: false, message: 'malformed check_delay duration (soon)' } },
    { name: 'a source field of the wrong type is refused', source: { initial_version: ['a'] }, expect: { ok: false, message: 'invalid source.initial_version: expected a string, got a list' } },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const outcome = await both(checks, 'mock', { source: row.source, ...(row.version ? { version: row.version } : {}) }, { ...(row.privileged ? { privileged: true } : {}) });
      assert.deepEqual(outcome, row.expect);
    });
  }
});

// ---- time ----------------------------------------------------------------------------------

describe('time: script and in-process answer the same', { concurrency: 4 }, () => {
  const checks = new InProcessChecks();
  const now = '2024-03-04T08:30:00Z';
  const rows: { name: string; source: JsonObject; version?: Version; expect: 'ok' | RegExp; count?: number }[] = [
    { name: 'interval, a first check: now', source: { interval: '1h' }, expect: 'ok', count: 1 },
    { name: 'interval, checked 30 minutes ago: the given version only', source: { interval: '1h' }, version: { time: '2024-03-04T08:00:00Z' }, expect: 'ok', count: 1 },
    { name: 'interval, checked 2 hours ago: the given version and now', source: { interval: '1h' }, version: { time: '2024-03-04T06:30:00Z' }, expect: 'ok', count: 2 },
    { name: 'start/stop: inside the range', source: { start: '8:00 AM', stop: '9:00 AM', location: 'UTC' }, expect: 'ok', count: 1 },
    { name: 'start/stop: outside the range, nothing new', source: { start: '9:00 AM', stop: '10:00 AM', location: 'UTC' }, version: { time: '2024-03-03T09:30:00Z' }, expect: 'ok', count: 1 },
    { name: 'a location with an offset formats the time there', source: { interval: '1m', location: 'Europe/Berlin' }, expect: 'ok', count: 1 },
    { name: 'an unknown location is refused', source: { location: 'Mars/Olympus_Mons' }, expect: /Mars/ },
    { name: 'a malformed interval is refused', source: { interval: 'often' }, expect: /often/ },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const request = { source: row.source, ...(row.version ? { version: row.version } : {}) };
      const outcome = await both(checks, 'time', request, { now, ...(row.expect !== 'ok' ? { error: row.expect } : {}) });
      if (row.expect === 'ok') {
        assert.equal(outcome.ok, true);
        assert.equal((outcome as { versions: unknown[] }).versions.length, row.count);
      }
    });
  }
});

// ---- git -----------------------------------------------------------------------------------

describe('git over HTTP: script and in-process answer the same', { concurrency: 4 }, () => {
  const password = 'in-process-s3cret';
  let server: Server;
  let url = '';
  let requests: () => string[];
  let work = '';
  let pushed = '';
  const sha: Record<string, string> = {};
  let checks: InProcessChecks;
  let mirrors = '';

  before(async () => {
    const root = tempDir('jetway-git-served-');
    work = initRepo(join(root, 'repo'));
    sha.c1 = commit(work, { a: '1' }, 'one');
    sha.c2 = commit(work, { 'src/x': '2' }, 'two');
    tag(work, 'v1.0');
    sha.c3 = commit(work, { a: '3' }, 'three [ci skip]');
    git(work, 'branch', 'other');
    sha.c4 = commit(work, { 'docs/y': '4' }, 'four');
    tag(work, 'v1.1');
    sha.c5 = commit(work, { 'src/z': '5' }, 'five');
    tag(work, 'rel-1');
    initRepo(join(root, 'empty.git'), true);
    // a repository of its own for the test that pushes (the rows above run concurrently)
    pushed = initRepo(join(root, 'pushed'));
    for (const i of [1, 2, 3, 4, 5]) sha[`p${i}`] = commit(pushed, { [`f${i}`]: String(i) }, `p${i}`);
    // and one nobody else asks for while a test counts its requests
    const quiet = initRepo(join(root, 'quiet'));
    sha.q1 = commit(quiet, { 'docs/a': '1' }, 'q1');
    sha.q2 = commit(quiet, { b: '2' }, 'q2');
    ({ url, server, requests } = await gitHttpServer(root, 'bob', password));
    mirrors = tempDir('jetway-git-mirrors-');
    checks = new InProcessChecks({ gitMirrorDir: mirrors });
  });
  after(() => server?.close());

  const src = (extra: JsonObject = {}): JsonObject => ({ uri: `${url}/repo`, username: 'bob', password, ...extra });
  const rows: { name: string; source: () => JsonObject; version?: () => Version; expect?: () => Version[]; error?: RegExp }[] = [
    { name: 'a first check of a branch: its newest commit', source: () => src({ branch: 'main' }), expect: () => [{ ref: sha.c5! }] },
    { name: 'no branch: the remote HEAD’s branch', source: () => src(), expect: () => [{ ref: sha.c5! }] },
    { name: 'from a version: it and the commits after it, oldest first, [ci skip] left out', source: () => src({ branch: 'main' }), version: () => ({ ref: sha.c2! }), expect: () => [sha.c2!, sha.c4!, sha.c5!].map((ref) => ({ ref })) },
    { name: 'disable_ci_skip: every commit', source: () => src({ branch: 'main', disable_ci_skip: true }), version: () => ({ ref: sha.c1! }), expect: () => [sha.c1!, sha.c2!, sha.c3!, sha.c4!, sha.c5!].map((ref) => ({ ref })) },
    { name: 'paths: only commits touching them', source: () => src({ branch: 'main', paths: ['src'] }), version: () => ({ ref: sha.c1! }), expect: () => [sha.c2!, sha.c5!].map((ref) => ({ ref })) },
    { name: 'ignore_paths: commits touching only those left out', source: () => src({ branch: 'main', ignore_paths: ['src'] }), expect: () => [{ ref: sha.c4! }] },
    { name: 'version_depth: the newest N on a first check', source: () => src({ branch: 'main', version_depth: 3 }), expect: () => [sha.c2!, sha.c4!, sha.c5!].map((ref) => ({ ref })) },
    { name: 'a version not on the branch: the newest commit only', source: () => src({ branch: 'main' }), version: () => ({ ref: 'f'.repeat(40) }), expect: () => [{ ref: sha.c5! }] },
    { name: 'another branch (its head is a [ci skip] commit: the one before)', source: () => src({ branch: 'other' }), expect: () => [{ ref: sha.c2! }] },
    { name: 'tag_filter: the newest matching tag', source: () => src({ branch: 'main', tag_filter: 'v*' }), expect: () => [{ ref: 'v1.1', commit: sha.c4! }] },
    { name: 'tag_filter from a tag: it and the newer ones', source: () => src({ tag_filter: 'v*', version_depth: 5 }), version: () => ({ ref: 'v1.0' }), expect: () => [{ ref: 'v1.0', commit: sha.c2! }, { ref: 'v1.1', commit: sha.c4! }] },
    { name: 'tag_filter matching nothing: no versions', source: () => src({ tag_filter: 'nothing-*' }), expect: () => [] },
    { name: 'an empty repository: no versions', source: () => ({ uri: `${url}/empty.git`, username: 'bob', password }), expect: () => [] },
    { name: 'a missing branch fails, naming it', source: () => src({ branch: 'nope' }), error: /Remote branch nope not found/ },
    { name: 'version_depth 0 is refused', source: () => src({ version_depth: 0 }), error: /invalid source.version_depth: must be greater than 0/ },
    { name: 'tag_filter and tag_regex together are refused before anything runs', source: () => src({ tag_filter: 'v*', tag_regex: 'v.*' }), error: /Cannot provide both tag_filter and tag_regex/ },
    { name: 'a wrong password fails, and neither message shows it', source: () => src({ branch: 'main', password: 'wrong-pw-4242' }), error: /failed|Authentication/ },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const source = row.source();
      const request = { source, ...(row.version ? { version: row.version() } : {}) };
      if (row.name.startsWith('tag_filter and tag_regex')) {
        // tag_regex keeps its container (inProcessRefusal); the checker itself still refuses it as the script does
        const r = await inProcessOutcome(checks, 'git', request, {});
        assert.deepEqual(r.outcome, { ok: false, message: 'Cannot provide both tag_filter and tag_regex' });
        return;
      }
      const outcome = await both(checks, 'git', request, row.error ? { error: row.error } : {});
      if (row.expect) assert.deepEqual(outcome, { ok: true, versions: row.expect() });
      else {
        assert.doesNotMatch(JSON.stringify(outcome), /wrong-pw-4242|in-process-s3cret/);
      }
      // asked again with nothing new: the same answer (remembered, or read from the mirror)
      if (row.expect) assert.deepEqual((await inProcessOutcome(checks, 'git', request, {})).outcome, outcome);
    });
  }

  test('a check with nothing new is one ls-remote: no fetch, no clone', async () => {
    const request = { source: { uri: `${url}/quiet`, username: 'bob', password, branch: 'main', paths: ['docs'] } };
    await inProcessOutcome(checks, 'git', request, {});
    const before = requests().length;
    const { outcome } = await inProcessOutcome(checks, 'git', request, {});
    assert.deepEqual(outcome, { ok: true, versions: [{ ref: sha.q1! }] });
    // (other tests run meanwhile, on other repositories)
    const made = requests().slice(before).filter((r) => r.includes(' /quiet/'));
    // the advertisement and one ls-refs command (protocol v2); a fetch or clone would ask for objects
    assert.ok(made.some((r) => r.endsWith(' ls-refs')), made.join('\n'));
    assert.deepEqual(made.filter((r) => r.endsWith(' fetch') || r.endsWith(' want')), [], made.join('\n'));
  });

  test('after a push: the mirror fetches what is new and answers as a fresh clone does', async () => {
    const source = { uri: `${url}/pushed`, username: 'bob', password, branch: 'main' };
    const first = await both(checks, 'git', { source, version: { ref: sha.p4! } });
    const p6 = commit(pushed, { 'src/w': '6' }, 'six');
    const p7 = commit(pushed, { a: '7' }, 'seven [skip ci]');
    const next = await both(checks, 'git', { source, version: { ref: sha.p4! } });
    assert.deepEqual(first, { ok: true, versions: [{ ref: sha.p4! }, { ref: sha.p5! }] });
    assert.deepEqual(next, { ok: true, versions: [{ ref: sha.p4! }, { ref: sha.p5! }, { ref: p6 }] });
    // a rewritten branch (force push): the version is gone from it, the newest only
    git(pushed, 'reset', '--quiet', '--hard', sha.p2!);
    const rewritten = await both(checks, 'git', { source, version: { ref: p7 } });
    assert.deepEqual(rewritten, { ok: true, versions: [{ ref: sha.p2! }] });
  });

  test('mirrors live under the mirror dir, named by salted hashes (no uri, no credentials on disk)', () => {
    const names = readdirSync(mirrors);
    assert.ok(names.includes('salt'));
    assert.ok(names.filter((n) => n !== 'salt').every((n) => /^[0-9a-f]{64}$/.test(n)), names.join(' '));
    for (const n of names.filter((x) => x !== 'salt')) {
      const config = git(join(mirrors, n), 'config', '--list');
      assert.doesNotMatch(config, /in-process-s3cret|bob/);
    }
  });

  test('a mirror over its size bound: the check is declined to a container, and later checks of the source are too', async () => {
    const tiny = new InProcessChecks({ gitMirrorDir: tempDir('jetway-git-tiny-'), limits: { maxGitMirrorBytes: 10 } });
    const source = src({ branch: 'main', version_depth: 2 });
    await assert.rejects(
      tiny.check('git', { source }, { env: {}, stderr: { write: () => true }, signal: new AbortController().signal }),
      (err: Error) => err.name === 'InProcessDeclined' && /larger than/.test(err.message),
    );
    assert.equal(tiny.accepts('git', source), false);
  });

  test('a local repository cannot be reached even if asked for directly: git refuses the file transport', async () => {
    const local = initRepo();
    commit(local, { a: '1' }, 'one');
    const { outcome } = await inProcessOutcome(checks, 'git', { source: { uri: local } }, {});
    assert.equal(outcome.ok, false);
    assert.match((outcome as { message: string }).message, /transport 'file' not allowed|failed/);
  });
});

// ---- registry-image ------------------------------------------------------------------------

describe('registry-image: script and in-process answer the same', { concurrency: 2 }, () => {
  let registry: TestRegistry;
  let digest = '';
  const checks = new InProcessChecks();
  before(async () => {
    registry = await startRegistry({ htpasswd: { username: 'reg', password: 'reg-s3cret' } });
    const client = new RegistryClient();
    digest = await pushTestImage(client, repositoryRef(`${registry.host}/team/app`), 'v1', buildTestImage({ layers: [[{ type: 'file', path: 'a', content: 'a' }]] }), registry.credentials);
  });
  after(async () => registry?.stop());
  const src = (extra: JsonObject = {}): JsonObject => ({ repository: `${registry.host}/team/app`, username: 'reg', password: 'reg-s3cret', ...extra });
  const rows: { name: string; source: () => JsonObject; version?: () => Version; expect?: () => Version[]; error?: RegExp }[] = [
    { name: 'a tag: its digest', source: () => src({ tag: 'v1' }), expect: () => [{ digest, tag: 'v1' }] },
    { name: 'from the same digest: it again', source: () => src({ tag: 'v1' }), version: () => ({ digest }), expect: () => [{ digest, tag: 'v1' }] },
    { name: 'a missing tag: no versions', source: () => src({ tag: 'v9' }), expect: () => [] },
    { name: 'no repository: refused', source: () => ({}), error: /repository/ },
    { name: 'a wrong password fails without showing it', source: () => src({ tag: 'v1', password: 'bad-pw-777' }), error: /401|unauthorized|denied/i },
  ];
  for (const row of rows) {
    test(row.name, async () => {
      const outcome = await both(checks, 'registry-image', { source: row.source(), ...(row.version ? { version: row.version() } : {}) }, row.error ? { error: row.error } : {});
      if (row.expect) assert.deepEqual(outcome, { ok: true, versions: row.expect() });
      else assert.doesNotMatch(JSON.stringify(outcome), /bad-pw-777|reg-s3cret/);
    });
  }
});

// ---- decisions -----------------------------------------------------------------------------

describe('inProcessRefusal: which checks keep their container', () => {
  const opts: InProcessCheckOptions = { gitMirrorDir: '/var/lib/jetway/git-mirrors' };
  const rows: { name: string; type: string; source: unknown; opts?: InProcessCheckOptions; refused: RegExp | undefined }[] = [
    { name: 'mock: in the web node', type: 'mock', source: {}, refused: undefined },
    { name: 'time: in the web node', type: 'time', source: { interval: '1m' }, refused: undefined },
    { name: 'registry-image: in the web node', type: 'registry-image', source: { repository: 'x/y' }, refused: undefined },
    { name: 'git over https: in the web node', type: 'git', source: { uri: 'https://example.com/a.git' }, refused: undefined },
    { name: 'git over ssh (scp-like): in the web node', type: 'git', source: { uri: 'git@example.com:a/b.git' }, refused: undefined },
    { name: 'a type not built in: container', type: 's3', source: {}, refused: /not checked in the web node/ },
    { name: 'a built-in type the operator left out: container', type: 'time', source: {}, opts: { ...opts, types: ['mock'] }, refused: /not checked in the web node/ },
    { name: 'git without a mirror dir: container', type: 'git', source: { uri: 'https://example.com/a.git' }, opts: {}, refused: /mirrors/ },
    { name: 'git at a local path: container', type: 'git', source: { uri: '/srv/repos/a.git' }, refused: /local repository/ },
    { name: 'git at file://: container', type: 'git', source: { uri: 'file:///var/lib/jetway/postgres' }, refused: /local repository/ },
    { name: 'git at a relative path: container', type: 'git', source: { uri: '../a' }, refused: /local repository/ },
    { name: 'git through ext:: (a command): container', type: 'git', source: { uri: 'ext::sh -c touch% /tmp/pwned' }, refused: /local repository/ },
    { name: 'git at a local path the operator allows: in the web node', type: 'git', source: { uri: '/srv/repos/a.git' }, opts: { ...opts, allowLocalGit: true }, refused: undefined },
    { name: 'git with tag_regex (a regular expression on the web node): container', type: 'git', source: { uri: 'https://e.com/a', tag_regex: '(a+)+$' }, refused: /tag_regex/ },
    { name: 'git_config http.extraHeader: in the web node', type: 'git', source: { uri: 'https://e.com/a', git_config: [{ name: 'http.extraHeader', value: 'Authorization: Bearer x' }] }, refused: undefined },
    { name: 'git_config core.sshCommand (a program): container', type: 'git', source: { uri: 'https://e.com/a', git_config: [{ name: 'core.sshCommand', value: 'sh -c id' }] }, refused: /core\.sshcommand/ },
    { name: 'git_config url.insteadOf (a redirect to a local path): container', type: 'git', source: { uri: 'https://e.com/a', git_config: [{ name: 'url./etc/.insteadOf', value: 'https://e.com/' }] }, refused: /insteadof/ },
    { name: 'git without a uri: in the web node (it fails there with the script’s message)', type: 'git', source: {}, refused: undefined },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const refusal = inProcessRefusal(row.type, row.source, row.opts ?? opts);
      if (row.refused) assert.match(refusal ?? '', row.refused);
      else assert.equal(refusal, undefined);
    });
  }
});

describe('gitUriIsRemote', () => {
  const rows: [string, boolean][] = [
    ['https://github.com/concourse/concourse.git', true],
    ['http://127.0.0.1:8080/repo', true],
    ['ssh://git@host:22/repo.git', true],
    ['git://host/repo.git', true],
    ['git@github.com:concourse/concourse.git', true],
    ['file:///tmp/repo', false],
    ['/tmp/repo', false],
    ['./repo', false],
    ['repo', false],
    ['dir/with:colon', false],
    ['ext::ssh -o ProxyCommand=x host', false],
    ['fd::17', false],
    ['FILE:///tmp/repo', false],
  ];
  for (const [uri, remote] of rows) test(`${uri} → ${remote ? 'remote' : 'local'}`, () => assert.equal(gitUriIsRemote(uri), remote));
});

describe('checkRequestOf: the request as the script reads it', () => {
  const rows: { name: string; payload: unknown; expect: unknown }[] = [
    { name: 'source and version', payload: { source: { a: 1 }, version: { ref: 'x' } }, expect: { source: { a: 1 }, version: { ref: 'x' } } },
    { name: 'no source: an empty one', payload: {}, expect: { source: {} } },
    { name: 'undefined fields are dropped as JSON drops them', payload: { source: { a: undefined, b: 2 } }, expect: { source: { b: 2 } } },
    { name: 'a version value of a number becomes a string', payload: { source: {}, version: { n: 3 } }, expect: { source: {}, version: { n: '3' } } },
    { name: 'a source that is a list is refused', payload: { source: [1] }, expect: /"source" must be an object/ },
    { name: 'a nested version value is refused', payload: { source: {}, version: { a: { b: 1 } } }, expect: /invalid version.a: expected a string/ },
  ];
  for (const row of rows) {
    test(row.name, () => {
      if (row.expect instanceof RegExp) assert.throws(() => checkRequestOf(row.payload), row.expect);
      else assert.deepEqual(checkRequestOf(row.payload), row.expect);
    });
  }
});

// ---- bounds --------------------------------------------------------------------------------

describe('bounds of a check in the web node', () => {
  const ctx = (log: string[] = []) => ({ env: {}, stderr: { write: (c: string) => log.push(c) }, signal: new AbortController().signal });

  test('time: a check longer than the bound fails with a readable message', async () => {
    const checks = new InProcessChecks({ limits: { timeoutMs: 200 } });
    const started = Date.now();
    await assert.rejects(checks.check('mock', { source: { check_delay: '1h' } }, ctx()), /took longer than 0 s in the web node: stopped/);
    assert.ok(Date.now() - started < 30_000);
  });

  test('versions: more than the bound fail the check', async () => {
    const checks = new InProcessChecks({ limits: { maxVersions: 0 } });
    await assert.rejects(checks.check('mock', { source: {} }, ctx()), /found 1 versions, more than the 0 one check may save/);
  });

  test('answer size: more bytes than the bound fail the check', async () => {
    const checks = new InProcessChecks({ limits: { maxResponseBytes: 10 } });
    await assert.rejects(checks.check('mock', { source: { initial_version: 'a-long-version-name' } }, ctx()), /more than 10 bytes/);
  });

  test('logs: cut at the bound, with a note', async () => {
    const checks = new InProcessChecks({ limits: { maxLogBytes: 8 } });
    const log: string[] = [];
    await checks.check('mock', { source: { log: 'x'.repeat(100) } }, ctx(log));
    assert.equal(log.join(''), `xxxxxxxx\n(the check's log was cut at 8 bytes)\n`);
  });

  test('an aborted build stops the check', async () => {
    const checks = new InProcessChecks();
    const abort = new AbortController();
    const done = checks.check('mock', { source: { check_delay: '1h' } }, { ...ctx(), signal: abort.signal });
    abort.abort();
    await assert.rejects(done, /interrupted/);
  });
});

// the mirror dir exists only once a git check ran
test('InProcessChecks.inDataDir keeps git mirrors under <data dir>/git-mirrors', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'x'));
  const checks = InProcessChecks.inDataDir(dir);
  assert.equal(checks.accepts('git', { uri: 'https://example.com/a.git' }), true);
});
