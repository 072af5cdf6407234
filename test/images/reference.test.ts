import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DOCKER_HUB_REGISTRY,
  ImageReferenceError,
  checkImageSource,
  isLoopbackRegistry,
  parseRepository,
  podImageReference,
} from '../../src/images/reference.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseRepository', () => {
  const cases: [string, string, string][] = [
    ['alpine', DOCKER_HUB_REGISTRY, 'library/alpine'],
    ['library/alpine', DOCKER_HUB_REGISTRY, 'library/alpine'],
    ['concourse/git-resource', DOCKER_HUB_REGISTRY, 'concourse/git-resource'],
    ['docker.io/alpine', DOCKER_HUB_REGISTRY, 'library/alpine'],
    ['index.docker.io/org/app', DOCKER_HUB_REGISTRY, 'org/app'],
    ['ghcr.io/org/app', 'ghcr.io', 'org/app'],
    ['ghcr.io/org/team/app', 'ghcr.io', 'org/team/app'],
    ['127.0.0.1:5000/team/app', '127.0.0.1:5000', 'team/app'],
    ['localhost:5000/x', 'localhost:5000', 'x'],
    ['localhost/x', 'localhost', 'x'],
    ['registry.example.com:443/a_b/c-d.e', 'registry.example.com:443', 'a_b/c-d.e'],
  ];
  for (const [repository, registry, path] of cases) {
    it(`${repository} → ${registry} ${path}`, () => {
      assert.deepEqual(parseRepository(repository), { repository, registry, path });
    });
  }

  const bad: [string, RegExp][] = [
    ['alpine:3.19', /carries a tag; write repository: alpine and tag: "3.19"/],
    ['127.0.0.1:5000/team/app:v1', /carries a tag; write repository: 127.0.0.1:5000\/team\/app and tag: "v1"/],
    [`alpine@${DIGEST}`, /carries a digest; write repository: alpine and pin the digest/],
    ['Alpine', /lowercase: alpine/],
    ['org//app', /empty path component/],
    ['org/app/', /empty path component/],
    ['', /must not be empty/],
    ['my image', /white space/],
    ['localhost:5000', /carries a tag/],
  ];
  for (const [repository, message] of bad) {
    it(`refuses ${JSON.stringify(repository)}`, () => {
      assert.throws(() => parseRepository(repository), (err: unknown) => err instanceof ImageReferenceError && message.test(err.message));
    });
  }
});

describe('podImageReference (decision 9)', () => {
  const cases: [string, { repository: string; tag?: unknown; digest?: unknown }, string][] = [
    ['digest wins and the tag is dropped', { repository: 'my-org/app', tag: 'v2', digest: DIGEST }, `my-org/app@${DIGEST}`],
    ['digest without tag', { repository: 'alpine', digest: DIGEST }, `alpine@${DIGEST}`],
    ['tag', { repository: 'my-org/app', tag: 'v2' }, 'my-org/app:v2'],
    ['bare repository: no :latest added', { repository: 'my-org/app' }, 'my-org/app'],
    ['empty digest counts as absent', { repository: 'my-org/app', tag: 'latest', digest: '' }, 'my-org/app:latest'],
    ['registry with a port, tag', { repository: '127.0.0.1:5000/team/app', tag: 'v1' }, '127.0.0.1:5000/team/app:v1'],
    ['registry with a port, digest', { repository: '127.0.0.1:5000/team/app', tag: 'v1', digest: DIGEST }, `127.0.0.1:5000/team/app@${DIGEST}`],
    ['localhost with a port, bare', { repository: 'localhost:5000/x' }, 'localhost:5000/x'],
    ['kept as written (no docker.io/library/)', { repository: 'alpine', tag: '3.19' }, 'alpine:3.19'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(podImageReference(input), expected));
  }

  const bad: [string, { repository: string; tag?: unknown; digest?: unknown }, RegExp][] = [
    ['repository with a tag', { repository: 'alpine:3.19' }, /carries a tag; write repository: alpine and tag: "3.19"/],
    ['repository with a digest', { repository: `alpine@${DIGEST}`, tag: 'x' }, /carries a digest/],
    ['numeric tag (YAML 3.10)', { repository: 'alpine', tag: 3.1 }, /tag must be a string, got a number \(3\.1\); quote it in YAML: tag: "3\.1"/],
    ['boolean tag', { repository: 'alpine', tag: true }, /tag must be a string, got a boolean/],
    ['malformed tag', { repository: 'alpine', tag: '-bad' }, /not a valid tag/],
    ['malformed digest', { repository: 'alpine', digest: 'abc' }, /not a digest/],
    ['non-string tag even with a digest', { repository: 'alpine', tag: 3.19, digest: DIGEST }, /tag must be a string/],
  ];
  for (const [name, input, message] of bad) {
    it(`refuses: ${name}`, () => {
      assert.throws(() => podImageReference(input), (err: unknown) => err instanceof ImageReferenceError && message.test(err.message));
    });
  }
});

describe('checkImageSource', () => {
  it('accepts a good source', () => {
    assert.deepEqual(checkImageSource({ repository: '127.0.0.1:5000/team/app', tag: 'v1', username: 'u', password: 'p', insecure: true }), []);
  });
  it('reports every problem with its field', () => {
    const problems = checkImageSource({ repository: 'alpine:3', tag: 3.19, username: 'u', insecure: 'yes' });
    assert.deepEqual(
      problems.map((p) => p.path.join('.')),
      ['repository', 'tag', 'password', 'insecure'],
    );
    assert.match(problems[0]?.message ?? '', /carries a tag/);
  });
  it('requires a repository and a map', () => {
    assert.deepEqual(checkImageSource({}).map((p) => p.message), ['repository is required']);
    assert.equal(checkImageSource('alpine').length, 1);
  });
  it('never echoes a password', () => {
    const problems = checkImageSource({ repository: 'alpine', username: 'u', password: 12345 });
    assert.ok(problems.length > 0);
    assert.ok(problems.every((p) => !p.message.includes('12345')));
  });
});

describe('isLoopbackRegistry', () => {
  it('knows loopback hosts', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.equal(isLoopbackRegistry(host), true, host);
    for (const host of ['ghcr.io', '10.0.0.1:5000', 'localhost.example.com', DOCKER_HUB_REGISTRY]) assert.equal(isLoopbackRegistry(host), false, host);
  });
});
