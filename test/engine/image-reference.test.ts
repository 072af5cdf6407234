import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageReferenceOf } from '../../src/engine/image/reference.ts';
import { rootfsReference } from '../../src/engine/steps/task.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

test('a fetched registry image is used by repository@digest; the version digest wins over the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-imgref-'));
  try {
    await writeFile(join(dir, 'repository'), '127.0.0.1:5000/team/app\n');
    await writeFile(join(dir, 'digest'), `${DIGEST}\n`);
    assert.equal(await imageReferenceOf({ kind: 'volume', path: dir }), `127.0.0.1:5000/team/app@${DIGEST}`);
    assert.equal(await imageReferenceOf({ kind: 'volume', path: dir }, { digest: OTHER }), `127.0.0.1:5000/team/app@${OTHER}`);
    assert.equal(await imageReferenceOf({ kind: 'image-ref', reference: 'x@y', digest: 'y' }), 'x@y');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an artifact that is not a registry image cannot boot a pod, and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-imgref-'));
  try {
    await assert.rejects(imageReferenceOf({ kind: 'volume', path: dir }), /only registry images .* can run as pods/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rootfs_uri docker:///repo#tag becomes repo:tag', () => {
  assert.equal(rootfsReference('docker:///busybox#1.36'), 'busybox:1.36');
  assert.equal(rootfsReference('docker:///library/alpine'), 'library/alpine');
  assert.equal(rootfsReference('registry.example.com/app:v1'), 'registry.example.com/app:v1');
});

test('pull credentials come from a registry-image source with username and password', async () => {
  const { pullCredentialsOf } = await import('../../src/engine/image/reference.ts');
  assert.deepEqual(pullCredentialsOf({ repository: '127.0.0.1:5000/team/app', username: 'u', password: 'p' }), { registry: '127.0.0.1:5000', username: 'u', password: 'p' });
  assert.deepEqual(pullCredentialsOf({ repository: 'alpine', username: 'u', password: 'p' })?.registry, 'registry-1.docker.io');
  assert.equal(pullCredentialsOf({ repository: 'alpine' }), undefined);
  assert.equal(pullCredentialsOf({ repository: 'alpine', username: '', password: '' }), undefined, 'empty credentials mean an open registry');
});

// Mutants of src/engine/image/reference.ts the cases above left alive (docs/mutation-testing.md)
test('pull credentials: only a map with string repository, username and password, a non-empty username, and a repository that parses', async () => {
  const { pullCredentialsOf } = await import('../../src/engine/image/reference.ts');
  const good = { repository: '127.0.0.1:5000/team/app', username: 'u', password: 'p' };
  assert.equal(pullCredentialsOf(null), undefined);
  assert.equal(pullCredentialsOf('127.0.0.1:5000/team/app'), undefined);
  assert.equal(pullCredentialsOf({ ...good, repository: 5 }), undefined);
  assert.equal(pullCredentialsOf({ ...good, username: 5 }), undefined);
  assert.equal(pullCredentialsOf({ ...good, password: 5 }), undefined);
  assert.equal(pullCredentialsOf({ ...good, username: '' }), undefined);
  assert.deepEqual(pullCredentialsOf({ ...good, password: '' }), { registry: '127.0.0.1:5000', username: 'u', password: '' });
  assert.equal(pullCredentialsOf({ ...good, repository: 'Team/App:v1' }), undefined, 'a repository that does not parse');
});

test('the env of a fetched image: none for an image reference, a missing or malformed metadata.json', async () => {
  const { fetchedImageEnv } = await import('../../src/engine/image/reference.ts');
  assert.deepEqual(await fetchedImageEnv({ kind: 'image-ref', reference: 'x@y', digest: 'y' }), {});
  const dir = await mkdtemp(join(tmpdir(), 'jw-imgenv-'));
  try {
    assert.deepEqual(await fetchedImageEnv({ kind: 'volume', path: dir }), {});
    await writeFile(join(dir, 'metadata.json'), '{not json');
    assert.deepEqual(await fetchedImageEnv({ kind: 'volume', path: dir }), {});
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ env: ['A=1', 'B=x=y', '=z', 7, 'C'] }));
    assert.deepEqual(await fetchedImageEnv({ kind: 'volume', path: dir }), { A: '1', B: 'x=y' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
