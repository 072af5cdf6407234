import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mockResource as mock } from '../../src/resources/mock/index.ts';
import { ResourceError } from '../../src/resources/protocol.ts';
import { capture, runResource, tempDir } from './helpers.ts';

describe('mock check', () => {
  it('emits the initial version on a first check (default "mock")', async () => {
    const { ctx } = capture();
    assert.deepEqual(await mock.check({ source: {} }, ctx), [{ version: 'mock' }]);
    assert.deepEqual(await mock.check({ source: { initial_version: 'v0' } }, ctx), [{ version: 'v0' }]);
  });

  it('uses MIRRORED_VERSION when run from a mirrored image without initial_version', async () => {
    const { ctx } = capture({ env: { MIRRORED_VERSION: 'from-image' } });
    assert.deepEqual(await mock.check({ source: {} }, ctx), [{ version: 'from-image' }]);
    assert.deepEqual(await mock.check({ source: { initial_version: 'x' } }, ctx), [{ version: 'x' }]);
  });

  it('emits nothing with no_initial_version until a version is given', async () => {
    const { ctx } = capture();
    assert.deepEqual(await mock.check({ source: { no_initial_version: true, initial_version: 'h' } }, ctx), []);
    assert.deepEqual(await mock.check({ source: { no_initial_version: true }, version: { version: 'foo' } }, ctx), [{ version: 'foo' }]);
  });

  it('returns the given version (a manual check --from version:foo)', async () => {
    const { ctx } = capture();
    assert.deepEqual(await mock.check({ source: { initial_version: 'a' }, version: { version: 'foo' } }, ctx), [{ version: 'foo' }]);
  });

  it('force_version wins over everything', async () => {
    const { ctx } = capture();
    assert.deepEqual(await mock.check({ source: { force_version: 'forced' }, version: { version: 'foo' } }, ctx), [{ version: 'forced' }]);
    assert.deepEqual(await mock.check({ source: { force_version: 'forced', no_initial_version: true } }, ctx), [{ version: 'forced' }]);
  });

  it('check_failure fails with the message', async () => {
    const { ctx } = capture();
    await assert.rejects(mock.check({ source: { check_failure: 'nope' } }, ctx), (err: unknown) => {
      assert.ok(err instanceof ResourceError);
      assert.equal(err.message, 'intentionally failing to check: nope');
      return true;
    });
  });

  it('check_delay sleeps (Go duration), rejects malformed durations and honours abort', async () => {
    const { ctx } = capture();
    const started = Date.now();
    assert.deepEqual(await mock.check({ source: { check_delay: '150ms' } }, ctx), [{ version: 'mock' }]);
    assert.ok(Date.now() - started >= 140, 'slept');
    await assert.rejects(mock.check({ source: { check_delay: '10 parsecs' } }, ctx), /malformed check_delay/);
    const controller = new AbortController();
    const aborted = capture({ signal: controller.signal });
    const pending = mock.check({ source: { check_delay: '1h' } }, aborted.ctx);
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, /interrupted/);
  });

  it('logs source.log on every action', async () => {
    const { ctx, logs } = capture();
    await mock.check({ source: { log: 'hello from check' } }, ctx);
    await mock.in({ source: { log: 'hello from in' }, version: { version: 'v' } }, tempDir(), ctx);
    await mock.out({ source: { log: 'hello from out' }, params: { version: 'v' } }, tempDir(), ctx);
    assert.match(logs(), /hello from check/);
    assert.match(logs(), /hello from in/);
    assert.match(logs(), /hello from out/);
  });

  it('rejects unknown source fields, like Concourse mock does', async () => {
    const { ctx } = capture();
    await assert.rejects(mock.check({ source: { repository: 'alpine' } }, ctx), /unknown field "repository"/);
  });

  it('marks versions privileged when the step is privileged', async () => {
    const { ctx } = capture({ privileged: true });
    assert.deepEqual(await mock.check({ source: {} }, ctx), [{ version: 'mock', privileged: 'true' }]);
  });
});

describe('mock in', () => {
  it('writes version, privileged and create_files merged with create_files_via_params', async () => {
    const dir = tempDir();
    const { ctx } = capture();
    const result = await mock.in(
      {
        source: {
          create_files: { 'task.yml': 'platform: linux\n', 'nested/dir/data': 'old', 'obj.json': { a: [1, 2] } },
          metadata: [{ name: 'foo', value: 'bar' }],
        },
        version: { version: 'v1' },
        params: { create_files_via_params: { 'nested/dir/data': 'new', hello: 'hello' } },
      },
      dir,
      ctx,
    );
    assert.deepEqual(result, { version: { version: 'v1' }, metadata: [{ name: 'foo', value: 'bar' }] });
    assert.equal(readFileSync(join(dir, 'version'), 'utf8'), 'v1\n');
    assert.equal(readFileSync(join(dir, 'privileged'), 'utf8').trim(), 'false');
    assert.equal(readFileSync(join(dir, 'task.yml'), 'utf8'), 'platform: linux\n');
    assert.equal(readFileSync(join(dir, 'nested/dir/data'), 'utf8'), 'new');
    assert.equal(readFileSync(join(dir, 'hello'), 'utf8'), 'hello');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'obj.json'), 'utf8')), { a: [1, 2] });
    assert.equal(existsSync(join(dir, 'rootfs')), false);
    assert.equal(existsSync(join(dir, 'metadata.json')), false);
  });

  it('refuses create_files paths outside the directory', async () => {
    const { ctx } = capture();
    await assert.rejects(mock.in({ source: { create_files: { '../escape': 'x' } }, version: { version: 'v' } }, tempDir(), ctx), /outside/);
  });

  it('writes privileged=true when privileged', async () => {
    const dir = tempDir();
    await mock.in({ source: {}, version: { version: 'v' } }, dir, capture({ privileged: true }).ctx);
    assert.equal(readFileSync(join(dir, 'privileged'), 'utf8').trim(), 'true');
  });

  for (const [label, source, params] of [
    ['mirror_self', { mirror_self: true }, {}],
    ['mirror_self_via_params', {}, { mirror_self_via_params: true }],
  ] as const) {
    it(`${label} lays out an image: rootfs/ (shell, /opt/resource scripts) and metadata.json`, async () => {
      const dir = tempDir();
      await mock.in({ source, version: { version: 'img-v1' }, params }, dir, capture().ctx);
      const metadata = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { env: string[]; user: string };
      assert.deepEqual(metadata, { env: ['MIRRORED_VERSION=img-v1'], user: 'root' });
      const rootfs = join(dir, 'rootfs');
      assert.ok(statSync(rootfs).isDirectory());
      assert.ok(existsSync(join(rootfs, 'bin', 'sh')), 'rootfs has a shell');
      for (const d of ['tmp', 'dev', 'proc', 'sys']) assert.ok(lstatSync(join(rootfs, d)).isDirectory(), d);
      for (const script of ['check', 'in', 'out']) {
        const path = join(rootfs, 'opt', 'resource', script);
        assert.ok(statSync(path).mode & 0o111, `${script} is executable`);
      }
    });
  }

  it('the mirrored image works as a resource type: /opt/resource/check with the image env', async () => {
    const dir = tempDir();
    await mock.in({ source: { mirror_self: true }, version: { version: 'custom-type-version' } }, dir, capture().ctx);
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(join(dir, 'rootfs', 'opt', 'resource', 'check'), [], {
      input: JSON.stringify({ source: {} }),
      env: { ...process.env, MIRRORED_VERSION: 'custom-type-version' },
      cwd: tempDir(),
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [{ version: 'custom-type-version' }]);
  });
});

describe('mock out', () => {
  it('emits params.version with the source metadata', async () => {
    const { ctx, logs } = capture();
    const result = await mock.out({ source: { metadata: [{ name: 'k', value: 'v' }] }, params: { version: 'v_static1' } }, tempDir(), ctx);
    assert.deepEqual(result, { version: { version: 'v_static1' }, metadata: [{ name: 'k', value: 'v' }] });
    assert.match(logs(), /pushing version: v_static1/);
  });

  it('reads the version from params.file in the inputs', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'version-file'), 'from-file\n');
    const result = await mock.out({ source: {}, params: { file: 'version-file' } }, dir, capture().ctx);
    assert.deepEqual(result.version, { version: 'from-file' });
    await assert.rejects(mock.out({ source: {}, params: { file: 'missing' } }, dir, capture().ctx), /failed to read version from file 'missing'/);
  });

  it('print_env prints the environment to the log', async () => {
    const { ctx, logs } = capture({ env: { BUILD_ID: '42', BUILD_JOB_NAME: 'some-job' } });
    await mock.out({ source: {}, params: { version: 'x', print_env: true } }, tempDir(), ctx);
    assert.match(logs(), /^BUILD_ID=42$/m);
    assert.match(logs(), /^BUILD_JOB_NAME=some-job$/m);
  });
});

describe('mock through cli.ts (a real process)', () => {
  it('check → in → out round trip over stdin/stdout', async () => {
    const check = await runResource('mock', 'check', { source: { initial_version: 'first' } });
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(check.json(), [{ version: 'first' }]);

    const dir = tempDir();
    const got = await runResource('mock', 'in', { source: { create_files: { data: 'hello-world' } }, version: { version: 'first' }, params: {} }, { dir });
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.json(), { version: { version: 'first' }, metadata: [] });
    assert.equal(readFileSync(join(dir, 'data'), 'utf8'), 'hello-world');
    assert.match(got.stderr, /fetching version: first/);

    const put = await runResource('mock', 'out', { source: {}, params: { version: 'second', print_env: true } }, { dir, env: { BUILD_NAME: '7' } });
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(put.json(), { version: { version: 'second' }, metadata: [] });
    assert.match(put.stderr, /^BUILD_NAME=7$/m);
  });

  it('a failing check exits non-zero with the message on stderr and no stack trace', async () => {
    const result = await runResource('mock', 'check', { source: { check_failure: 'the check broke' } });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim(), 'intentionally failing to check: the check broke');
    assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/);
  });

  it('prints the stack only with JETWAY_DEBUG', async () => {
    const result = await runResource('mock', 'check', { source: { check_failure: 'x' } }, { env: { JETWAY_DEBUG: '1' } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ResourceError: intentionally failing to check: x\n\s+at /);
  });

  it('rejects unparsable input and bad usage readably', async () => {
    const bad = await runResource('mock', 'check', 'not json');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^invalid payload: /);
    const noDir = await runResource('mock', 'in', { source: {}, version: { version: 'v' } });
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /destination directory not specified/);
    const unknown = await runResource('nope', 'check', { source: {} });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown resource type 'nope'/);
  });
});
