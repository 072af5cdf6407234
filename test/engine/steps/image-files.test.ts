// A fetched image's files (`repository`, `digest`, `metadata.json`) are read by the web node from a
// directory a resource type's `in` filled: a custom type's code. Like load_var's files they stay
// inside that directory (issue 16; src/engine/artifact-files.ts, docs/security.md "Builds"): a
// symlink out of it, by an absolute path or by `..`, is a step error naming the step and the file,
// and nothing of the web node's file reaches a container.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';
import type { ResourceHandler, ScriptResult } from '../../support/scripted-runtime.ts';
import { DIGEST, errorOf, harness, type Harness } from './harness.ts';

const REGISTRY = '127.0.0.1:9';
const PIPELINE = `
resource_types:
- name: my-type
  type: mock
  source: {mirror_self: true}
resources:
- name: custom
  type: my-type
  source: {initial_version: c1}
- name: img
  type: mock
  source: {initial_version: i1}
`;

const SECRET = 'web-node-secret-do-not-leak';

/** A harness with a secret file of the "web node" beside the artifacts, and `hostile` as every get's `in` (image or not). */
function setup(t: TestContext, runsImages: boolean, hostile: (secret: string) => ScriptResult): { h: Harness; secret: string } {
  let secret = '';
  const handler: ResourceHandler = (spec: ContainerSpec, script, request) => {
    if (script === 'check') return { exitStatus: 0, response: [{ version: 't1' }] };
    if (script === 'in' && (spec.metadata.purpose === 'image' || spec.metadata.type === 'get')) return hostile(secret);
    return { exitStatus: 0, response: { version: (request as { version: unknown }).version, metadata: [] } };
  };
  const h = harness(t, { pipeline: PIPELINE, runsImages, resource: handler, task: () => ({ exitStatus: 0 }) });
  secret = join(h.dir, 'secret.json');
  writeFileSync(secret, JSON.stringify({ env: [`LEAK=${SECRET}`] }));
  writeFileSync(join(h.dir, 'repository'), `${REGISTRY}/team/${SECRET}\n`);
  return { h, secret };
}

/** `../` enough times to reach `/` from any temporary directory, then the absolute path: a `..` symlink. */
const climbing = (absolute: string): string => `${'../'.repeat(40)}${absolute.slice(1)}`;

const ok = (extra: Partial<ScriptResult>): ScriptResult => ({ exitStatus: 0, response: { version: { version: 't1' } }, ...extra });

function noLeak(h: Harness): void {
  for (const c of h.runtime.containers) {
    assert.ok(!JSON.stringify(c).includes(SECRET), `container ${c.handle} holds the web node's secret`);
  }
}

const METADATA: { name: string; result: (secret: string) => ScriptResult; error: string }[] = [
  {
    name: 'a symlink to a file of the web node',
    result: (secret) => ok({ symlinks: { 'metadata.json': secret } }),
    error: "image 'my-type': file 'my-type/metadata.json' is outside artifact 'my-type' (through a symlink)",
  },
  {
    name: 'a symlink that climbs out with ..',
    result: (secret) => ok({ symlinks: { 'metadata.json': climbing(secret) } }),
    error: "image 'my-type': file 'my-type/metadata.json' is outside artifact 'my-type' (through a symlink)",
  },
  {
    name: "a symlink to the web node's environment",
    result: () => ok({ symlinks: { 'metadata.json': '/proc/self/environ' } }),
    error: "image 'my-type': file 'my-type/metadata.json' is outside artifact 'my-type' (through a symlink)",
  },
  {
    name: 'a directory',
    result: () => ok({ files: { 'metadata.json/env': 'x' } }),
    error: "image 'my-type': file 'my-type/metadata.json' in artifact 'my-type' is not a regular file",
  },
];
for (const row of METADATA) {
  test(`a fetched image's metadata.json that is ${row.name} errors the step; no container gets the file`, async (t) => {
    const { h } = setup(t, false, row.result);
    assert.equal(errorOf(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } }))), row.error);
    assert.equal(h.runtime.containers.filter((c) => c.metadata.purpose !== 'image').length, 0, 'no step container');
    noLeak(h);
  });
}

test("a fetched image's metadata.json may be a symlink that stays inside the image", async (t) => {
  const { h } = setup(t, false, () => ok({ files: { 'rootfs/meta.json': JSON.stringify({ env: ['INSIDE=yes'] }) }, symlinks: { 'metadata.json': 'rootfs/meta.json' } }));
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });
  assert.equal(h.runtime.containers.find((c) => c.metadata.purpose !== 'image')?.env?.INSIDE, 'yes');
});

// On a runtime that boots images, the image is `repository@digest`, read from the same directory
const REFERENCE: { name: string; result: (secret: string) => ScriptResult; error: string }[] = [
  {
    name: 'repository, a symlink to a file of the web node',
    result: (secret) => ok({ files: { digest: DIGEST }, symlinks: { repository: join(secret, '..', 'repository') } }),
    error: "image 'my-type': file 'my-type/repository' is outside artifact 'my-type' (through a symlink)",
  },
  {
    name: 'repository, a symlink that climbs out with ..',
    result: (secret) => ok({ files: { digest: DIGEST }, symlinks: { repository: climbing(join(secret, '..', 'repository')) } }),
    error: "image 'my-type': file 'my-type/repository' is outside artifact 'my-type' (through a symlink)",
  },
  {
    name: 'digest, a symlink to a file of the web node',
    result: (secret) => ok({ files: { repository: `${REGISTRY}/team/app` }, symlinks: { digest: secret } }),
    error: "image 'my-type': file 'my-type/digest' is outside artifact 'my-type' (through a symlink)",
  },
];
for (const row of REFERENCE) {
  test(`a fetched image (runtime that boots images) whose ${row.name} errors the step`, async (t) => {
    const { h } = setup(t, true, row.result);
    assert.equal(errorOf(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } }))), row.error);
    assert.equal(h.runtime.containers.filter((c) => c.metadata.purpose !== 'image').length, 0, 'no step container');
    noLeak(h);
  });
}

test("a task's image: artifact whose repository is a symlink out of it errors the task; no task container", async (t) => {
  const { h } = setup(t, true, (secret) => ok({ files: { digest: DIGEST }, symlinks: { repository: climbing(join(secret, '..', 'repository')) } }));
  const plan = h.stepPlan([{ get: 'img' }, { task: 'unit', image: 'img', config: { platform: 'linux', run: { path: 'true' } } }], { img: { version: 'i1' } });
  assert.equal(errorOf(await h.run(plan)), "task 'unit': file 'img/repository' is outside artifact 'img' (through a symlink)");
  assert.equal(h.runtime.containers.filter((c) => c.metadata.type === 'task').length, 0);
  noLeak(h);
});

test("a task's image: artifact with its own repository and digest runs by reference", async (t) => {
  const { h } = setup(t, true, () => ok({ files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }));
  const plan = h.stepPlan([{ get: 'img' }, { task: 'unit', image: 'img', config: { platform: 'linux', run: { path: 'true' } } }], { img: { version: 'i1' } });
  assert.deepEqual(await h.run(plan), { ok: true });
  assert.deepEqual(h.runtime.containers.find((c) => c.metadata.type === 'task')?.image, { kind: 'reference', reference: `${REGISTRY}/team/app@${DIGEST}` });
});
