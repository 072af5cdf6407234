import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gitResource as gitType } from '../../src/resources/git/index.ts';
import { redact } from '../../src/resources/git/git.ts';
import type { JsonObject, Metadata } from '../../src/resources/protocol.ts';
import { capture, commit, fileUri, git, gitHttpServer, initRepo, runResource, tag, tempDir } from './helpers.ts';

function meta(metadata: Metadata, name: string): string | undefined {
  return metadata.find((m) => m.name === name)?.value;
}

describe('git check', () => {
  it('first check: only the newest commit; then the commits after the given one, oldest first', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { a: '1' }, 'one');
    const c2 = commit(repo, { a: '2' }, 'two');
    const source = { uri: fileUri(repo), branch: 'main' };
    assert.deepEqual(await gitType.check({ source }, capture().ctx), [{ ref: c2 }]);

    const c3 = commit(repo, { a: '3' }, 'three');
    const c4 = commit(repo, { a: '4' }, 'four');
    assert.deepEqual(await gitType.check({ source, version: { ref: c2 } }, capture().ctx), [{ ref: c2 }, { ref: c3 }, { ref: c4 }]);
    // From the root commit.
    assert.deepEqual(await gitType.check({ source, version: { ref: c1 } }, capture().ctx), [c1, c2, c3, c4].map((ref) => ({ ref })));
    // Nothing new: the given ref only.
    assert.deepEqual(await gitType.check({ source, version: { ref: c4 } }, capture().ctx), [{ ref: c4 }]);
  });

  it('version_depth: the newest N commits on a first check, oldest first', async () => {
    const repo = initRepo();
    const shas = [1, 2, 3, 4].map((i) => commit(repo, { a: String(i) }, `c${i}`));
    assert.deepEqual(await gitType.check({ source: { uri: fileUri(repo), version_depth: 3 } }, capture().ctx), shas.slice(1).map((ref) => ({ ref })));
  });

  it('a given ref no longer on the branch (force-pushed away): the newest only', async () => {
    const repo = initRepo();
    commit(repo, { a: '1' }, 'one');
    const c2 = commit(repo, { a: '2' }, 'two');
    git(repo, 'reset', '--hard', 'HEAD~1');
    const c2b = commit(repo, { a: '2b' }, 'two again');
    git(repo, 'reflog', 'expire', '--expire=now', '--all');
    git(repo, 'gc', '--prune=now', '--quiet');
    const source = { uri: fileUri(repo), branch: 'main' };
    assert.deepEqual(await gitType.check({ source, version: { ref: c2 } }, capture().ctx), [{ ref: c2b }]);
    assert.deepEqual(await gitType.check({ source, version: { ref: 'deadbeef'.repeat(5) } }, capture().ctx), [{ ref: c2b }]);
  });

  it('tracks the configured branch, not the default one', async () => {
    const repo = initRepo();
    commit(repo, { a: '1' }, 'one');
    git(repo, 'checkout', '--quiet', '-b', 'feature');
    const f1 = commit(repo, { f: '1' }, 'feature work');
    git(repo, 'checkout', '--quiet', 'main');
    const m2 = commit(repo, { a: '2' }, 'main work');
    assert.deepEqual(await gitType.check({ source: { uri: fileUri(repo), branch: 'feature' } }, capture().ctx), [{ ref: f1 }]);
    assert.deepEqual(await gitType.check({ source: { uri: fileUri(repo) } }, capture().ctx), [{ ref: m2 }]);
  });

  it('paths and ignore_paths filter the commits', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { 'src/a.ts': '1', 'docs/readme.md': '1' }, 'both');
    const c2 = commit(repo, { 'docs/readme.md': '2' }, 'docs only');
    const c3 = commit(repo, { 'src/a.ts': '2' }, 'src only');
    const c4 = commit(repo, { 'docs/readme.md': '3' }, 'docs again');
    const uri = fileUri(repo);
    assert.deepEqual(await gitType.check({ source: { uri, paths: ['src/*'] } }, capture().ctx), [{ ref: c3 }]);
    assert.deepEqual(await gitType.check({ source: { uri, paths: ['src'] }, version: { ref: c1 } }, capture().ctx), [{ ref: c1 }, { ref: c3 }]);
    assert.deepEqual(await gitType.check({ source: { uri, ignore_paths: ['src'] } }, capture().ctx), [{ ref: c4 }]);
    assert.deepEqual(await gitType.check({ source: { uri, ignore_paths: ['src'] }, version: { ref: c1 } }, capture().ctx), [c1, c2, c4].map((ref) => ({ ref })));
  });

  it('skips [ci skip] commits unless disable_ci_skip', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { a: '1' }, 'one');
    const c2 = commit(repo, { a: '2' }, 'two [ci skip]');
    const uri = fileUri(repo);
    assert.deepEqual(await gitType.check({ source: { uri } }, capture().ctx), [{ ref: c1 }]);
    assert.deepEqual(await gitType.check({ source: { uri, disable_ci_skip: true } }, capture().ctx), [{ ref: c2 }]);
  });

  it('tag_filter: the newest matching tag as {ref: tag, commit}', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { a: '1' }, 'one');
    tag(repo, 'v1.0.0');
    const c2 = commit(repo, { a: '2' }, 'two');
    tag(repo, 'other-2');
    const c3 = commit(repo, { a: '3' }, 'three');
    tag(repo, 'v1.1.0');
    const source = { uri: fileUri(repo), branch: 'main', tag_filter: 'v*' };
    assert.deepEqual(await gitType.check({ source }, capture().ctx), [{ ref: 'v1.1.0', commit: c3 }]);
    assert.notEqual(c1, c2);

    const c4 = commit(repo, { a: '4' }, 'four');
    tag(repo, 'v2.0.0');
    assert.deepEqual(await gitType.check({ source, version: { ref: 'v1.1.0', commit: c3 } }, capture().ctx), [{ ref: 'v2.0.0', commit: c4 }]);
    // No matching tag: nothing.
    assert.deepEqual(await gitType.check({ source: { ...source, tag_filter: 'release-*' } }, capture().ctx), []);
    // tag_regex works too.
    assert.deepEqual(await gitType.check({ source: { uri: fileUri(repo), tag_regex: 'other-[0-9]+' } }, capture().ctx), [{ ref: 'other-2', commit: c2 }]);
  });

  it('an empty repository has no versions; a missing uri or branch is an error', async () => {
    const repo = initRepo(undefined, true);
    assert.deepEqual(await gitType.check({ source: { uri: fileUri(repo) } }, capture().ctx), []);
    await assert.rejects(gitType.check({ source: {} }, capture().ctx), /source.uri is required/);
    const full = initRepo();
    commit(full, { a: '1' }, 'one');
    await assert.rejects(gitType.check({ source: { uri: fileUri(full), branch: 'nope' } }, capture().ctx), /git clone .* failed/);
  });
});

describe('git in', () => {
  it('clones at the ref and writes metadata and .git/ref', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { 'file.txt': 'first' }, 'first commit\n\nwith a body');
    commit(repo, { 'file.txt': 'second' }, 'second commit');
    tag(repo, 'v0', c1);
    const dir = join(tempDir(), 'repo');
    const result = await gitType.in({ source: { uri: fileUri(repo), branch: 'main' }, version: { ref: c1 } }, dir, capture().ctx);
    assert.deepEqual(result.version, { ref: c1 });
    assert.equal(readFileSync(join(dir, 'file.txt'), 'utf8'), 'first');
    assert.equal(git(dir, 'rev-parse', 'HEAD'), c1);
    assert.equal(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    assert.equal(readFileSync(join(dir, '.git', 'ref'), 'utf8').trim(), c1);
    assert.equal(readFileSync(join(dir, '.git', 'commit_message'), 'utf8').trim(), 'first commit\n\nwith a body');
    assert.equal(meta(result.metadata, 'commit'), c1);
    assert.equal(meta(result.metadata, 'author'), 'Test Author');
    assert.match(meta(result.metadata, 'author_date') ?? '', /^2024-01-01 \d\d:\d\d:\d\d \+0000$/);
    assert.equal(meta(result.metadata, 'branch'), 'main');
    assert.equal(meta(result.metadata, 'tags'), 'v0');
    assert.equal(meta(result.metadata, 'message'), 'first commit\n\nwith a body');
    assert.equal(git(dir, 'remote', 'get-url', 'origin'), fileUri(repo));
  });

  it('names the committer when it differs from the author', async () => {
    const repo = initRepo();
    git(repo, 'config', 'user.name', 'Committer Person');
    writeFileSync(join(repo, 'x'), 'x');
    git(repo, 'add', 'x');
    git(repo, 'commit', '--quiet', '-m', 'authored', '--author', 'Someone Else <else@example.com>');
    const sha = git(repo, 'rev-parse', 'HEAD');
    const result = await gitType.in({ source: { uri: fileUri(repo) }, version: { ref: sha } }, tempDir(), capture().ctx);
    assert.equal(meta(result.metadata, 'author'), 'Someone Else');
    assert.equal(meta(result.metadata, 'committer'), 'Committer Person');
  });

  it('depth makes a shallow clone, deepening when the ref is older', async () => {
    const repo = initRepo();
    const shas = [1, 2, 3, 4, 5, 6].map((i) => commit(repo, { n: String(i) }, `c${i}`));
    const newest = shas[5] as string;
    const dir = tempDir();
    await gitType.in({ source: { uri: fileUri(repo), branch: 'main' }, version: { ref: newest }, params: { depth: 1 } }, dir, capture().ctx);
    assert.equal(git(dir, 'rev-list', '--count', 'HEAD'), '1');
    assert.ok(existsSync(join(dir, '.git', 'shallow')));

    const old = shas[1] as string;
    const dir2 = tempDir();
    await gitType.in({ source: { uri: fileUri(repo), branch: 'main' }, version: { ref: old }, params: { depth: 1 } }, dir2, capture().ctx);
    assert.equal(git(dir2, 'rev-parse', 'HEAD'), old);
    assert.equal(readFileSync(join(dir2, 'n'), 'utf8'), '2');
  });

  it('checks out submodules (all by default, none on request)', async () => {
    const sub = initRepo();
    commit(sub, { 'lib.txt': 'library' }, 'lib');
    const repo = initRepo();
    commit(repo, { main: 'm' }, 'main');
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', fileUri(sub), 'vendor/lib');
    const sha = commit(repo, {}, 'add submodule');
    const source = { uri: fileUri(repo) };

    const dir = tempDir();
    await gitType.in({ source, version: { ref: sha } }, dir, capture().ctx);
    assert.equal(readFileSync(join(dir, 'vendor/lib/lib.txt'), 'utf8'), 'library');

    const none = tempDir();
    await gitType.in({ source, version: { ref: sha }, params: { submodules: 'none' } }, none, capture().ctx);
    assert.equal(existsSync(join(none, 'vendor/lib/lib.txt')), false);
  });

  it('fetches a tag version', async () => {
    const repo = initRepo();
    const c1 = commit(repo, { a: '1' }, 'one');
    tag(repo, 'v1');
    commit(repo, { a: '2' }, 'two');
    const dir = tempDir();
    const result = await gitType.in({ source: { uri: fileUri(repo), tag_filter: 'v*' }, version: { ref: 'v1', commit: c1 } }, dir, capture().ctx);
    assert.deepEqual(result.version, { ref: 'v1', commit: c1 });
    assert.equal(git(dir, 'rev-parse', 'HEAD'), c1);
  });

  it('an unknown ref is a readable error', async () => {
    const repo = initRepo();
    commit(repo, { a: '1' }, 'one');
    await assert.rejects(
      gitType.in({ source: { uri: fileUri(repo) }, version: { ref: 'f'.repeat(40) } }, tempDir(), capture().ctx),
      new RegExp(`ref ${'f'.repeat(40)} not found`),
    );
  });
});

/** A bare "remote" with one commit, and a clone of it inside a fresh sources dir (as put inputs). */
function remoteAndClone(): { remote: string; sources: string; clone: string; base: string } {
  const seed = initRepo();
  const base = commit(seed, { readme: 'hello' }, 'base');
  const remote = join(tempDir(), 'remote.git');
  git(seed, 'clone', '--quiet', '--bare', seed, remote);
  const sources = tempDir();
  const clone = join(sources, 'repo');
  git(sources, 'clone', '--quiet', fileUri(remote), clone);
  git(clone, 'config', 'user.name', 'Pusher');
  git(clone, 'config', 'user.email', 'pusher@example.com');
  return { remote, sources, clone, base };
}

describe('git out', () => {
  it('pushes the repository to the branch of a bare repo and returns its HEAD', async () => {
    const { remote, sources, clone } = remoteAndClone();
    const sha = commit(clone, { change: '1' }, 'a change');
    const result = await gitType.out({ source: { uri: fileUri(remote), branch: 'main' }, params: { repository: 'repo' } }, sources, capture().ctx);
    assert.deepEqual(result.version, { ref: sha });
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main'), sha);
    assert.equal(meta(result.metadata, 'message'), 'a change');
  });

  it('pushes to another branch and tags with tag + tag_prefix', async () => {
    const { remote, sources, clone } = remoteAndClone();
    const sha = commit(clone, { change: '1' }, 'release');
    writeFileSync(join(sources, 'version'), '1.2.3\n');
    await gitType.out(
      { source: { uri: fileUri(remote), branch: 'release' }, params: { repository: 'repo', tag: 'version', tag_prefix: 'v' } },
      sources,
      capture().ctx,
    );
    assert.equal(git(remote, 'rev-parse', 'refs/heads/release'), sha);
    assert.equal(git(remote, 'rev-parse', 'refs/tags/v1.2.3^{commit}'), sha);
  });

  it('without rebase a moved branch is rejected; with rebase it is rebased and pushed', async () => {
    const { remote, sources, clone, base } = remoteAndClone();
    // Someone else pushes first.
    const other = join(tempDir(), 'other');
    git(tempDir(), 'clone', '--quiet', fileUri(remote), other);
    git(other, 'config', 'user.name', 'Other');
    git(other, 'config', 'user.email', 'other@example.com');
    const theirs = commit(other, { theirs: 'x' }, 'their change');
    git(other, 'push', '--quiet', 'origin', 'HEAD:main');

    commit(clone, { mine: 'y' }, 'my change');
    const source = { uri: fileUri(remote), branch: 'main' };
    await assert.rejects(gitType.out({ source, params: { repository: 'repo' } }, sources, capture().ctx), /push failed/);
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main'), theirs);

    const result = await gitType.out({ source, params: { repository: 'repo', rebase: true } }, sources, capture().ctx);
    const head = git(remote, 'rev-parse', 'refs/heads/main');
    assert.deepEqual(result.version, { ref: head });
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main~1'), theirs);
    assert.equal(git(remote, 'log', '-1', '--format=%s', 'main'), 'my change');
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main~2'), base);
  });

  it('force overwrites the branch', async () => {
    const { remote, sources, clone } = remoteAndClone();
    const pushed = commit(clone, { a: '1' }, 'to be replaced');
    await gitType.out({ source: { uri: fileUri(remote), branch: 'main' }, params: { repository: 'repo' } }, sources, capture().ctx);
    git(clone, 'reset', '--quiet', '--hard', 'HEAD~1');
    const replacement = commit(clone, { b: '1' }, 'replacement');
    const source = { uri: fileUri(remote), branch: 'main' };
    await assert.rejects(gitType.out({ source, params: { repository: 'repo' } }, sources, capture().ctx), /push failed/);
    await gitType.out({ source, params: { repository: 'repo', force: true } }, sources, capture().ctx);
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main'), replacement);
    assert.notEqual(pushed, replacement);
  });

  it('requires params.repository and a branch', async () => {
    const { remote, sources } = remoteAndClone();
    await assert.rejects(gitType.out({ source: { uri: fileUri(remote), branch: 'main' }, params: {} }, sources, capture().ctx), /missing params.repository/);
    await assert.rejects(gitType.out({ source: { uri: fileUri(remote) }, params: { repository: 'repo' } }, sources, capture().ctx), /missing branch/);
    await assert.rejects(
      gitType.out({ source: { uri: fileUri(remote), branch: 'main' }, params: { repository: '../../etc' } }, sources, capture().ctx),
      /outside the sources directory/,
    );
  });
});



describe('git credentials', () => {
  it('redacts passwords in URLs and known secrets', () => {
    assert.equal(redact('fatal: https://bob:hunter22@host/x.git failed', []), 'fatal: https://bob:((redacted))@host/x.git failed');
    assert.equal(redact('the key is sup3r-s3cret-value!', ['sup3r-s3cret-value!']), 'the key is ((redacted))');
  });

  it('a password never reaches errors or logs, also when embedded in the uri', async () => {
    const { ctx, logs } = capture();
    const password = 'P4ssw0rd-never-shown';
    let message = '';
    await gitType.check({ source: { uri: 'http://127.0.0.1:9/repo.git', username: 'bob', password } }, ctx).catch((err: Error) => {
      message = err.message;
    });
    assert.notEqual(message, '');
    assert.doesNotMatch(message + logs(), new RegExp(password));

    const result = await runResource('git', 'check', { source: { uri: `http://bob:${password}@127.0.0.1:9/repo.git` } });
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, new RegExp(password));
    assert.match(result.stderr, /127\.0\.0\.1/);
  });


  it('username/password authenticate over HTTP (askpass), and the password is never logged', async () => {
    const root = tempDir();
    const { remote, sources, clone, base } = remoteAndClone();
    const served = join(root, 'repo.git');
    mkdirSync(dirname(served), { recursive: true });
    git(root, 'clone', '--quiet', '--bare', remote, served);
    git(served, 'config', 'http.receivepack', 'true');
    const password = 'http-s3cret-pw';
    const { url, server, authorized } = await gitHttpServer(root, 'bob', password);
    try {
      const source = { uri: `${url}/repo.git`, branch: 'main', username: 'bob', password };
      const { ctx, logs } = capture();
      assert.deepEqual(await gitType.check({ source }, ctx), [{ ref: base }]);
      assert.ok(authorized() > 0);
      const dir = tempDir();
      await gitType.in({ source, version: { ref: base } }, dir, ctx);
      assert.equal(git(dir, 'remote', 'get-url', 'origin'), `${url}/repo.git`, 'no credentials stored in the clone');
      const next = commit(clone, { pushed: 'over http' }, 'over http');
      await gitType.out({ source, params: { repository: 'repo' } }, sources, ctx);
      assert.equal(git(served, 'rev-parse', 'refs/heads/main'), next);
      assert.doesNotMatch(logs(), new RegExp(password));
      await assert.rejects(gitType.check({ source: { ...source, password: 'wrong-pw-123' } }, capture().ctx), (err: Error) => {
        assert.doesNotMatch(err.message, /wrong-pw-123/);
        assert.match(err.message, /failed/);
        return true;
      });
    } finally {
      server.close();
    }
  });

  it('private_key is handed to ssh as a 0600 file through GIT_SSH_COMMAND and removed afterwards', async () => {
    const repo = initRepo();
    const sha = commit(repo, { a: '1' }, 'one');
    // A fake `ssh` that records the identity file it was given, then runs git's remote command locally.
    const bin = tempDir();
    const record = join(tempDir(), 'ssh-record');
    const fakeSsh = join(bin, 'ssh');
    writeFileSync(
      fakeSsh,
      `#!/bin/sh
key=""
while [ $# -gt 1 ]; do
  case "$1" in
    -i) key="$2"; shift 2 ;;
    -o|-p) shift 2 ;;
    -*) shift ;;
    *) host="$1"; shift ;;
  esac
done
{ echo "$key"; stat -c %a "$key"; cat "$key"; } > ${JSON.stringify(record)}
exec sh -c "$1"
`,
    );
    chmodSync(fakeSsh, 0o755);
    mkdirSync(bin, { recursive: true });
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAthis-is-a-fake-key-body\n-----END OPENSSH PRIVATE KEY-----';
    const result = await runResource('git', 'check', { source: { uri: `ssh://git@fakehost${repo}`, private_key: key } }, {
      env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json(), [{ ref: sha }]);
    const [keyPath = '', mode, ...content] = readFileSync(record, 'utf8').trim().split('\n');
    assert.equal(mode, '600');
    assert.equal(content.join('\n'), key);
    assert.equal(existsSync(keyPath), false, 'the key file is deleted afterwards');
    assert.doesNotMatch(result.stderr, /fake-key-body/);
  });
});

// Issue 16: no credential is ever an argument of git (any local user reads /proc/<pid>/cmdline).
// A `git` first on the PATH records every argument it is given, then runs the real one.
async function recordingGitArgs<T>(work: () => Promise<T>): Promise<{ result: T; args: string }> {
  const bin = tempDir();
  const record = join(tempDir(), 'git-args');
  writeFileSync(record, '');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'git'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> ${JSON.stringify(record)}; done\nexec ${JSON.stringify(real)} "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ''}`;
  try {
    const result = await work();
    return { result, args: readFileSync(record, 'utf8') };
  } finally {
    process.env.PATH = saved;
  }
}

describe('git credentials never in git arguments', () => {
  const SECRET = 'arg-s3cret-never-in-argv';
  const ROWS: { name: string; source: (url: string) => JsonObject }[] = [
    { name: 'a password written into the uri', source: (url) => ({ uri: url.replace('http://', `http://bob:${SECRET}@`) + '/repo.git', branch: 'main' }) },
    { name: 'username and password', source: (url) => ({ uri: `${url}/repo.git`, branch: 'main', username: 'bob', password: SECRET }) },
    {
      name: 'an http.extraHeader in git_config',
      source: (url) => ({
        uri: `${url}/repo.git`,
        branch: 'main',
        git_config: [{ name: 'http.extraHeader', value: `Authorization: Basic ${Buffer.from(`bob:${SECRET}`).toString('base64')}` }],
      }),
    },
  ];
  for (const row of ROWS) {
    it(`${row.name}: check, get and put authenticate, and no git argument holds the secret`, async () => {
      const root = tempDir();
      const { remote, sources, clone, base } = remoteAndClone();
      const served = join(root, 'repo.git');
      git(root, 'clone', '--quiet', '--bare', remote, served);
      git(served, 'config', 'http.receivepack', 'true');
      const { url, server, authorized } = await gitHttpServer(root, 'bob', SECRET);
      try {
        const source = row.source(url);
        const next = commit(clone, { pushed: row.name }, row.name);
        const dir = tempDir();
        const { result, args } = await recordingGitArgs(async () => {
          const versions = await gitType.check({ source }, capture().ctx);
          await gitType.in({ source, version: { ref: base } }, dir, capture().ctx);
          await gitType.out({ source, params: { repository: 'repo' } }, sources, capture().ctx);
          return versions;
        });
        assert.deepEqual(result, [{ ref: base }]);
        assert.ok(authorized() > 0);
        assert.equal(git(served, 'rev-parse', 'refs/heads/main'), next, 'the put authenticated');
        assert.match(args, /clone/, 'the recording git ran');
        assert.ok(!args.includes(SECRET) && !args.includes(Buffer.from(`bob:${SECRET}`).toString('base64')), `a git argument holds the secret:\n${args}`);
        assert.ok(!git(dir, 'config', '--list').includes(SECRET), "the clone's config holds no secret");
      } finally {
        server.close();
      }
    });
  }
});

describe('git through cli.ts (a real process)', () => {
  it('check → in → out round trip against local repositories', async () => {
    const { remote, base } = remoteAndClone();
    const source = { uri: fileUri(remote), branch: 'main' };
    const check = await runResource('git', 'check', { source });
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(check.json(), [{ ref: base }]);

    const sources = tempDir();
    const dir = join(sources, 'repo');
    const got = await runResource('git', 'in', { source, version: { ref: base }, params: { depth: 1 } }, { dir });
    assert.equal(got.code, 0, got.stderr);
    const inResult = got.json() as { version: unknown; metadata: Metadata };
    assert.deepEqual(inResult.version, { ref: base });
    assert.equal(meta(inResult.metadata, 'commit'), base);
    assert.equal(readFileSync(join(dir, 'readme'), 'utf8'), 'hello');

    git(dir, 'config', 'user.name', 'Task');
    git(dir, 'config', 'user.email', 'task@example.com');
    const next = commit(dir, { readme: 'changed' }, 'task output');
    const put = await runResource('git', 'out', { source, params: { repository: 'repo' } }, { dir: sources });
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual((put.json() as { version: unknown }).version, { ref: next });
    assert.equal(git(remote, 'rev-parse', 'refs/heads/main'), next);

    const again = await runResource('git', 'check', { source, version: { ref: base } });
    assert.deepEqual(again.json(), [{ ref: base }, { ref: next }]);
  });

  it('a failing check exits 1 with a readable message', async () => {
    const result = await runResource('git', 'check', { source: { uri: fileUri(join(tempDir(), 'missing.git')) } });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /git clone .* failed \(exit 128\)/);
    assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/);
  });
});
