import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DOCKER_HUB_REGISTRY,
  ImageReferenceError,
  checkImageSource,
  digestProblem,
  isDigest,
  isLoopbackRegistry,
  isSha256Digest,
  isTag,
  parseRepository,
  podImageReference,
  repositoryProblem,
  tagProblem,
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

// The edges of the grammar and every message, one by one (docs/mutation-testing.md: these kill
// the mutants that the cases above leave alive).
describe('the grammar at its edges', () => {
  it('digests: any algorithm with 32+ characters; sha256 exactly 64 lowercase hex', () => {
    assert.equal(isDigest(DIGEST), true);
    assert.equal(isDigest(`sha512:${'A'.repeat(32)}`), true);
    assert.equal(isDigest(`sha256+b64:${'x'.repeat(32)}`), true);
    assert.equal(isDigest(`sha256:${'a'.repeat(31)}`), false);
    assert.equal(isDigest(`Sha256:${'a'.repeat(64)}`), false);
    assert.equal(isDigest(`x${DIGEST}`.slice(1) + ' '), false);
    assert.equal(isDigest(`:${'a'.repeat(64)}`), false);
    assert.equal(isSha256Digest(DIGEST), true);
    assert.equal(isSha256Digest(`sha256:${'a'.repeat(63)}`), false);
    assert.equal(isSha256Digest(`sha256:${'a'.repeat(65)}`), false);
    assert.equal(isSha256Digest(`sha256:${'A'.repeat(64)}`), false);
    assert.equal(isSha256Digest(` ${DIGEST}`), false);
  });
  it('tags: up to 128 word characters, dots and dashes, not starting with either', () => {
    for (const tag of ['v1', '_x', '1.2.3-rc.1', 'A'.repeat(128), 'a']) assert.equal(isTag(tag), true, tag);
    for (const tag of ['', '.x', '-x', 'A'.repeat(129), 'v1 ', 'a/b', 'a:b']) assert.equal(isTag(tag), false, tag);
  });
  it('path components: separators . _ __ and dashes, between lowercase letters and digits', () => {
    for (const repository of ['a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a1/b2.c3']) assert.equal(repositoryProblem(repository), undefined, repository);
    for (const repository of ['a..b', 'a___b', '.a', 'a.', '-a', 'a-', 'a_', 'a.-b', 'org/a$b']) assert.match(repositoryProblem(repository) ?? '', /invalid path component/, repository);
  });
  it('registry hosts: names, ports of up to five digits, bracketed IPv6; a malformed one is named', () => {
    assert.deepEqual(parseRepository('[::1]:5000/x'), { repository: '[::1]:5000/x', registry: '[::1]:5000', path: 'x' });
    assert.deepEqual(parseRepository('a-b.example.com:65535/x'), { repository: 'a-b.example.com:65535/x', registry: 'a-b.example.com:65535', path: 'x' });
    assert.equal(repositoryProblem('my_host.com/app'), "repository 'my_host.com/app' has a malformed registry host 'my_host.com'");
    assert.equal(repositoryProblem('-host.com/app'), "repository '-host.com/app' has a malformed registry host '-host.com'");
    assert.equal(repositoryProblem('host-.com/app'), "repository 'host-.com/app' has a malformed registry host 'host-.com'");
    assert.equal(repositoryProblem('host.com:123456/app'), "repository 'host.com:123456/app' has a malformed registry host 'host.com:123456'");
    assert.equal(repositoryProblem('[zz]:5000/app'), "repository '[zz]:5000/app' has a malformed registry host '[zz]:5000'");
    // a first component without '.', ':' or brackets, and not localhost, is a path, not a host
    assert.deepEqual(parseRepository('myhost/app'), { repository: 'myhost/app', registry: DOCKER_HUB_REGISTRY, path: 'myhost/app' });
  });
  it('Docker Hub: its aliases, and library/ only for one-component paths', () => {
    assert.deepEqual(parseRepository('docker.io/org/app'), { repository: 'docker.io/org/app', registry: DOCKER_HUB_REGISTRY, path: 'org/app' });
    assert.deepEqual(parseRepository('registry-1.docker.io/alpine'), { repository: 'registry-1.docker.io/alpine', registry: DOCKER_HUB_REGISTRY, path: 'library/alpine' });
    assert.deepEqual(parseRepository('index.docker.io/alpine'), { repository: 'index.docker.io/alpine', registry: DOCKER_HUB_REGISTRY, path: 'library/alpine' });
    assert.deepEqual(parseRepository('ghcr.io/app'), { repository: 'ghcr.io/app', registry: 'ghcr.io', path: 'app' });
  });
  it('every repository message, exactly', () => {
    assert.equal(repositoryProblem(null), 'repository must be a string, got null');
    assert.equal(repositoryProblem([]), 'repository must be a string, got a list');
    assert.equal(repositoryProblem({}), 'repository must be a string, got a map');
    assert.equal(repositoryProblem(5), 'repository must be a string, got a number (5)');
    assert.equal(repositoryProblem(''), 'repository must not be empty');
    assert.equal(repositoryProblem('a\tb'), "repository 'a\tb' contains white space");
    assert.equal(repositoryProblem(`alpine@${DIGEST}`), `repository 'alpine@${DIGEST}' carries a digest; write repository: alpine and pin the digest in the version ({digest: ${DIGEST}})`);
    assert.equal(repositoryProblem('localhost:5000/app:v1'), `repository 'localhost:5000/app:v1' carries a tag; write repository: localhost:5000/app and tag: "v1"`);
    assert.equal(repositoryProblem('org//app'), "repository 'org//app' has an empty path component (a doubled or trailing '/')");
    assert.equal(
      repositoryProblem('org/App'),
      "repository 'org/App' has an invalid path component 'App' (lowercase letters, digits and . _ - separators only); repository names are lowercase: org/app",
    );
    assert.equal(repositoryProblem('org/a..b'), "repository 'org/a..b' has an invalid path component 'a..b' (lowercase letters, digits and . _ - separators only)");
    assert.equal(repositoryProblem('a'.repeat(255)), undefined);
    assert.equal(repositoryProblem('a'.repeat(256)), `repository '${'a'.repeat(40)}…' is longer than 255 characters`);
  });
  it('every tag and digest message, exactly', () => {
    assert.equal(tagProblem('v1'), undefined);
    assert.equal(tagProblem(null), 'tag must be a string, got null; quote it in YAML: tag: "null" (YAML reads 3.10 as the number 3.1)');
    assert.equal(tagProblem(''), "tag '' is not a valid tag (up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-')");
    assert.equal(digestProblem(DIGEST), undefined);
    assert.equal(digestProblem(5), 'digest must be a string, got a number (5)');
    assert.equal(digestProblem('sha256:abc'), "digest 'sha256:abc' is not a digest (expected algorithm:hex, e.g. sha256:<64 hex digits>)");
  });
  it('podImageReference: an empty tag counts as absent; a bad repository throws before anything else', () => {
    assert.equal(podImageReference({ repository: 'app', tag: '' }), 'app');
    assert.equal(podImageReference({ repository: 'app', tag: '', digest: DIGEST }), `app@${DIGEST}`);
    assert.throws(() => podImageReference({ repository: '', tag: 'v1' }), { name: 'ImageReferenceError', message: 'repository must not be empty' });
    assert.throws(() => podImageReference({ repository: 'app', tag: '-x', digest: DIGEST }), { name: 'ImageReferenceError', message: /tag '-x' is not a valid tag/ });
    assert.throws(() => podImageReference({ repository: 'app', digest: 5 }), { name: 'ImageReferenceError', message: 'digest must be a string, got a number (5)' });
    assert.throws(() => parseRepository('Alpine'), { name: 'ImageReferenceError' });
  });
  it('checkImageSource: every problem with its path and message', () => {
    assert.deepEqual(checkImageSource([]), [{ path: [], message: 'a registry-image source must be a map, got a list' }]);
    assert.deepEqual(checkImageSource(null), [{ path: [], message: 'a registry-image source must be a map, got null' }]);
    assert.deepEqual(checkImageSource({ repository: null }), [{ path: ['repository'], message: 'repository must be a string, got null' }]);
    assert.deepEqual(checkImageSource({ repository: 'a', tag: 'v1' }), []);
    assert.deepEqual(checkImageSource({ repository: 'a', tag: '.v1' }), [{ path: ['tag'], message: "tag '.v1' is not a valid tag (up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-')" }]);
    assert.deepEqual(checkImageSource({ repository: 'a', username: 5, password: 'x' }), [{ path: ['username'], message: 'username must be a string, got a number (5)' }]);
    assert.deepEqual(checkImageSource({ repository: 'a', username: 'u', password: 5 }), [{ path: ['password'], message: 'password must be a string, got a number' }]);
    assert.deepEqual(checkImageSource({ repository: 'a', password: 'x' }), [{ path: ['username'], message: 'username and password go together; give both or neither' }]);
    assert.deepEqual(checkImageSource({ repository: 'a', username: 'u' }), [{ path: ['password'], message: 'username and password go together; give both or neither' }]);
    assert.deepEqual(checkImageSource({ repository: 'a', insecure: false }), []);
    assert.deepEqual(checkImageSource({ repository: 'a', insecure: 'yes' }), [{ path: ['insecure'], message: 'insecure must be a boolean, got a string ("yes")' }]);
  });
  it('loopback registries: with or without a port, bracketed or not', () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost:1']) assert.equal(isLoopbackRegistry(host), true, host);
    for (const host of ['127.0.0', '127.0.0.1.2', 'x127.0.0.1', '[::2]:5000', 'localhostx']) assert.equal(isLoopbackRegistry(host), false, host);
  });
});

// Mutants the cases above left alive (docs/mutation-testing.md): each assertion here fails for one.
describe('the grammar at its edges, continued', () => {
  it('a one-character first label of a host, and loopback addresses with multi-digit octets', () => {
    assert.equal(repositoryProblem('a.io/x'), undefined);
    assert.deepEqual(parseRepository('a.io/x'), { repository: 'a.io/x', registry: 'a.io', path: 'x' });
    assert.equal(isLoopbackRegistry('127.10.200.30:5000'), true);
  });
  it('a digest or tag at the very start, and a colon just before the last slash', () => {
    assert.equal(repositoryProblem('@sha256:abc'), "repository '@sha256:abc' carries a digest; write repository:  and pin the digest in the version ({digest: sha256:abc})");
    assert.equal(repositoryProblem(':v1'), `repository ':v1' carries a tag; write repository:  and tag: "v1"`);
    assert.equal(repositoryProblem('a:/b'), "repository 'a:/b' has a malformed registry host 'a:'");
  });
  it('the lowercase hint only when lowercasing makes the component valid', () => {
    assert.equal(repositoryProblem('org/A..b'), "repository 'org/A..b' has an invalid path component 'A..b' (lowercase letters, digits and . _ - separators only)");
  });
  it('a single component is a Docker Hub library image even when it looks like a host', () => {
    assert.deepEqual(parseRepository('localhost'), { repository: 'localhost', registry: DOCKER_HUB_REGISTRY, path: 'library/localhost' });
    assert.deepEqual(parseRepository('a.b'), { repository: 'a.b', registry: DOCKER_HUB_REGISTRY, path: 'library/a.b' });
  });
  it('checkImageSource: a string is not a map; a missing repository is reported at its path', () => {
    assert.deepEqual(checkImageSource('alpine'), [{ path: [], message: 'a registry-image source must be a map, got a string ("alpine")' }]);
    assert.deepEqual(checkImageSource({}), [{ path: ['repository'], message: 'repository is required' }]);
  });
});
