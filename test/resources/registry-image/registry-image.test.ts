// registry-image check / in / out against a real registry (Debian's docker-registry).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { list } from 'tar';
import { MEDIA_TYPES, sha256Digest } from '../../../src/images/oci.ts';
import { RegistryClient, repositoryRef } from '../../../src/images/registry-client.ts';
import { createRegistryImageResource, semverTags } from '../../../src/resources/registry-image/index.ts';
import { makeContext, type JsonObject } from '../../../src/resources/protocol.ts';
import type { Version } from '../../../src/model/version.ts';
import { buildTestImage, dockerSaveTarball, ociLayoutTarball, pushTestImage, pushTestIndex, startRegistry, type TestImageSpec, type TestRegistry } from '../../support/registry.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-registry-image-'));
  dirs.push(dir);
  return dir;
}

const twoLayers: TestImageSpec = {
  layers: [
    [
      { type: 'file', path: 'etc/os-release', content: 'ID=test\n' },
      { type: 'file', path: 'etc/removed.conf', content: 'gone later\n' },
      { type: 'file', path: 'var/cache/old', content: 'old' },
      { type: 'file', path: 'bin/hello', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
    ],
    [
      { type: 'file', path: 'etc/.wh.removed.conf', content: '' },
      { type: 'directory', path: 'var/cache' },
      { type: 'file', path: 'var/cache/.wh..wh..opq', content: '' },
      { type: 'file', path: 'var/cache/new', content: 'new' },
    ],
  ],
  env: ['PATH=/usr/bin:/bin', 'GREETING=hi'],
  user: 'nobody',
};

const ctx = (lines: string[] = []) => makeContext({ stderr: { write: (s: string) => lines.push(s) } });

describe('registry-image against a registry without auth', () => {
  let registry: TestRegistry;
  const client = new RegistryClient();
  const resource = createRegistryImageResource({ client, platform: { os: 'linux', architecture: 'amd64' } });
  let source: JsonObject;
  let pushedDigest: string;
  const image = buildTestImage(twoLayers);

  before(async () => {
    registry = await startRegistry();
    source = { repository: `${registry.host}/team/app`, tag: 'v1' };
    pushedDigest = await pushTestImage(client, repositoryRef(`${registry.host}/team/app`), 'v1', image);
  });
  after(async () => {
    await registry?.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('check with a tag: the digest the push returned; the given version while current; the new one after a push', async () => {
    const first = await resource.check({ source }, ctx());
    assert.deepEqual(first, [{ tag: 'v1', digest: pushedDigest }]);
    assert.deepEqual(await resource.check({ source, version: first[0] as Version }, ctx()), first);

    const other = buildTestImage({ layers: [[{ type: 'file', path: 'x', content: 'changed' }]] });
    const repo = repositoryRef(`${registry.host}/team/moving`);
    await pushTestImage(client, repo, 'v1', image);
    const moving = { repository: `${registry.host}/team/moving`, tag: 'v1' };
    const before = await resource.check({ source: moving }, ctx());
    const newDigest = await pushTestImage(client, repo, 'v1', other);
    assert.deepEqual(await resource.check({ source: moving, version: before[0] as Version }, ctx()), [{ tag: 'v1', digest: newDigest }]);
  });

  it('check of a tag that does not exist: no versions', async () => {
    assert.deepEqual(await resource.check({ source: { ...source, tag: 'missing' } }, ctx()), []);
  });

  it('in (rootfs): the layers with whiteouts honoured, metadata.json, and the registry digest', async () => {
    const dir = tempDir();
    const version = { tag: 'v1', digest: pushedDigest };
    const result = await resource.in({ source, version }, dir, ctx());
    assert.deepEqual(result.version, version);
    assert.equal(readFileSync(join(dir, 'repository'), 'utf8'), `${registry.host}/team/app`);
    assert.equal(readFileSync(join(dir, 'tag'), 'utf8'), 'v1');
    const registryDigest = (await client.resolveDigest({ ...repositoryRef(`${registry.host}/team/app`), reference: 'v1' })).digest;
    assert.equal(readFileSync(join(dir, 'digest'), 'utf8'), registryDigest);
    const rootfs = join(dir, 'rootfs');
    assert.equal(readFileSync(join(rootfs, 'etc/os-release'), 'utf8'), 'ID=test\n');
    assert.deepEqual(readdirSync(join(rootfs, 'etc')), ['os-release'], '.wh.removed.conf removed the file');
    assert.deepEqual(readdirSync(join(rootfs, 'var/cache')), ['new'], 'the opaque whiteout hid the lower layer');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')), { env: ['PATH=/usr/bin:/bin', 'GREETING=hi'], user: 'nobody' });
  });

  it('in (oci): image.tar is an OCI layout of exactly that image', async () => {
    const dir = tempDir();
    await resource.in({ source, version: { tag: 'v1', digest: pushedDigest }, params: { format: 'oci' } }, dir, ctx());
    assert.equal(existsSync(join(dir, 'rootfs')), false);
    const files = new Map<string, Buffer>();
    await list({
      file: join(dir, 'image.tar'),
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(entry.path, Buffer.concat(chunks)));
      },
    });
    assert.deepEqual(JSON.parse(files.get('oci-layout')?.toString() ?? '{}'), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')?.toString() ?? '{}') as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, pushedDigest);
    const hex = (d: string): string => `blobs/sha256/${d.slice(7)}`;
    assert.equal(sha256Digest(files.get(hex(pushedDigest)) ?? ''), pushedDigest);
    for (const d of [image.configDescriptor, ...image.layers.map((l) => l.descriptor)]) {
      assert.equal(sha256Digest(files.get(hex(d.digest)) ?? ''), d.digest, d.digest);
    }
  });

  it('in (skip_download): only repository, tag and digest', async () => {
    const dir = tempDir();
    await resource.in({ source, version: { tag: 'v1', digest: pushedDigest }, params: { skip_download: true } }, dir, ctx());
    assert.deepEqual(readdirSync(dir).sort(), ['digest', 'repository', 'tag']);
  });

  it('in of a digest the registry does not have fails naming the registry', async () => {
    await assert.rejects(
      resource.in({ source, version: { tag: 'v1', digest: sha256Digest('nothing') } }, tempDir(), ctx()),
      new RegExp(`registry ${registry.host}, repository team/app: GET manifest sha256:.*404`),
    );
  });

  it('multi-arch: check reports the index digest, in fetches this platform', async () => {
    const repo = repositoryRef(`${registry.host}/team/multi`);
    const amd64 = buildTestImage({ layers: [[{ type: 'file', path: 'arch', content: 'amd64' }]] });
    const arm64 = buildTestImage({ layers: [[{ type: 'file', path: 'arch', content: 'arm64' }]], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const indexDigest = await pushTestIndex(client, repo, 'latest', [
      { image: arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    const msource = { repository: `${registry.host}/team/multi`, tag: 'latest' };
    const versions = await resource.check({ source: msource }, ctx());
    assert.deepEqual(versions, [{ tag: 'latest', digest: indexDigest }]);
    const dir = tempDir();
    await resource.in({ source: msource, version: versions[0] as Version }, dir, ctx());
    assert.equal(readFileSync(join(dir, 'rootfs/arch'), 'utf8'), 'amd64');
    assert.equal(readFileSync(join(dir, 'digest'), 'utf8'), indexDigest);
  });

  it('check without a tag: semver tags oldest first from the given version; prereleases and constraints', async () => {
    const repo = repositoryRef(`${registry.host}/team/semver`);
    for (const tag of ['1.0.0', '1.2.0', '2.0.0', '2.1.0-rc.1', 'latest', 'v1.1.0', 'nightly']) await pushTestImage(client, repo, tag, image);
    const s = { repository: `${registry.host}/team/semver` };
    const tags = (vs: Version[]): (string | undefined)[] => vs.map((v) => v.tag);
    assert.deepEqual(tags(await resource.check({ source: s }, ctx())), ['2.0.0'], 'a first check: the newest only');
    assert.deepEqual(tags(await resource.check({ source: s, version: { tag: 'v1.1.0', digest: pushedDigest } }, ctx())), ['v1.1.0', '1.2.0', '2.0.0']);
    assert.deepEqual(tags(await resource.check({ source: { ...s, pre_releases: true } }, ctx())), ['2.1.0-rc.1']);
    assert.deepEqual(tags(await resource.check({ source: { ...s, semver_constraint: '>= 1.1, < 2' } }, ctx())), ['1.2.0']);
    const all = await resource.check({ source: s, version: { tag: '1.0.0', digest: pushedDigest } }, ctx());
    assert.ok(all.every((v) => v.digest === pushedDigest));
  });

  it('out (OCI layout) pushes the image to the tag and additional tags; in gets it back', async () => {
    const inputs = tempDir();
    const pushed = buildTestImage({ layers: [[{ type: 'file', path: 'built', content: randomBytes(8).toString('hex') }]], env: ['BUILT=1'] });
    writeFileSync(join(inputs, 'image.tar'), ociLayoutTarball(pushed));
    writeFileSync(join(inputs, 'tags'), 'extra1\n extra2 ');
    const outSource = { repository: `${registry.host}/team/built`, tag: 'main' };
    const result = await resource.out({ source: outSource, params: { image: 'image.tar', additional_tags: 'tags' } }, inputs, ctx());
    assert.deepEqual(result.version, { tag: 'main', digest: pushed.manifestDigest });
    for (const tag of ['main', 'extra1', 'extra2']) {
      assert.deepEqual(await resource.check({ source: { ...outSource, tag } }, ctx()), [{ tag, digest: pushed.manifestDigest }], tag);
    }
    const dir = tempDir();
    await resource.in({ source: outSource, version: result.version }, dir, ctx());
    assert.equal(readFileSync(join(dir, 'rootfs/built'), 'utf8').length, 16);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')).env, ['BUILT=1']);
  });

  it('out (docker save) pushes an OCI manifest built from it', async () => {
    const inputs = tempDir();
    writeFileSync(join(inputs, 'image.tar'), dockerSaveTarball({ layers: [[{ type: 'file', path: 'saved', content: 'from docker save' }]], user: 'app' }));
    const outSource = { repository: `${registry.host}/team/saved` };
    const result = await resource.out({ source: outSource, params: { image: 'image.tar', additional_tags: ['v9'] } }, inputs, ctx());
    assert.equal(result.version.tag, 'latest');
    const manifest = await client.getManifest({ ...repositoryRef(`${registry.host}/team/saved`), reference: 'v9' });
    assert.equal(manifest.digest, result.version.digest);
    assert.equal(manifest.mediaType, MEDIA_TYPES.ociManifest);
    const dir = tempDir();
    await resource.in({ source: outSource, version: result.version }, dir, ctx());
    assert.equal(readFileSync(join(dir, 'rootfs/saved'), 'utf8'), 'from docker save');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')), { env: ['PATH=/usr/bin:/bin'], user: 'app' });
  });

  it('refuses a malformed source with a hint', async () => {
    await assert.rejects(resource.check({ source: { repository: `${registry.host}/team/app:v1` } }, ctx()), /carries a tag; write repository: .*team\/app and tag: "v1"/);
    await assert.rejects(resource.check({ source: { repository: 'alpine', tag: 3.1 } }, ctx()), /tag must be a string, got a number/);
  });
});

describe('registry-image against a registry with htpasswd auth', () => {
  const credentials = { username: 'ci', password: `pw-${randomBytes(6).toString('hex')}` };
  let registry: TestRegistry;
  const resource = createRegistryImageResource({ client: new RegistryClient() });
  before(async () => {
    registry = await startRegistry({ htpasswd: credentials });
  });
  after(async () => {
    await registry?.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('out, check and in round trip with the credentials', async () => {
    const source = { repository: `${registry.host}/private/app`, tag: 'v1', ...credentials };
    const inputs = tempDir();
    const image = buildTestImage(twoLayers);
    writeFileSync(join(inputs, 'image.tar'), ociLayoutTarball(image));
    const out = await resource.out({ source, params: { image: 'image.tar' } }, inputs, ctx());
    const checked = await resource.check({ source }, ctx());
    assert.deepEqual(checked, [out.version]);
    const dir = tempDir();
    await resource.in({ source, version: checked[0] as Version }, dir, ctx());
    assert.equal(readFileSync(join(dir, 'digest'), 'utf8'), image.manifestDigest);
    assert.deepEqual(readdirSync(join(dir, 'rootfs/var/cache')), ['new']);
  });

  it('wrong credentials: the error names the registry and the 401, never the password', async () => {
    const wrong = { repository: `${registry.host}/private/app`, tag: 'v1', username: 'ci', password: `bad-${randomBytes(6).toString('hex')}` };
    const lines: string[] = [];
    const err = await resource.check({ source: wrong }, ctx(lines)).then(
      () => assert.fail('checked with a wrong password'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, new RegExp(`registry ${registry.host}.*401`));
    assert.ok(!`${err.message}${err.stack}${lines.join('')}`.includes(wrong.password));
  });
});

describe('semverTags', () => {
  it('orders, filters variants and keeps one tag per version', () => {
    const tags = ['1.10.0', '1.2.0', 'v1.2.0', '1.9.0-alpine', '1.10.0-alpine', 'latest', '1.3', '2.0.0-beta.1'];
    assert.deepEqual(semverTags(tags, {}).map((t) => t.tag), ['1.2.0', '1.10.0']);
    assert.deepEqual(semverTags(tags, { variant: 'alpine' }).map((t) => t.tag), ['1.9.0-alpine', '1.10.0-alpine']);
    assert.deepEqual(semverTags(tags, { preReleases: true }).map((t) => t.tag), ['1.2.0', '1.9.0-alpine', '1.10.0-alpine', '1.10.0', '2.0.0-beta.1'], 'a prerelease sorts before its release');
    assert.throws(() => semverTags(tags, { constraint: 'not a range!' }), /semver_constraint/);
  });
});
