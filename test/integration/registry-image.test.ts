// A pipeline that gets a registry-image resource from a real registry with htpasswd auth, on the
// local runtime: the image is downloaded and its digest is the registry's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startRegistry, buildTestImage, pushTestImage, type TestRegistry } from '../support/registry.ts';
import { RegistryClient } from '../../src/images/registry-client.ts';

let node: TestNode;
let registry: TestRegistry;
const creds = { username: 'ci', password: 'pull-secret-9f2c' };

before(async () => {
  registry = await startRegistry({ htpasswd: creds });
  node = await startTestNode();
});
after(async () => {
  await node?.stop();
  await registry?.stop();
});

test('get of a private registry-image downloads it, with the digest the registry has', async () => {
  const image = buildTestImage({ layers: [[{ type: 'file', path: 'etc/app-release', content: 'app v1\n' }]] });
  const pushedDigest = await pushTestImage(new RegistryClient(), { registry: registry.host, path: 'team/app' }, 'v1', image, creds);
  const id = await node.setPipeline(
    'images',
    `
resources:
- name: app-image
  type: registry-image
  source:
    repository: ${registry.host}/team/app
    tag: v1
    username: ((user))
    password: ((pass))
jobs:
- name: inspect
  plan:
  - get: app-image
  - task: show
    config:
      platform: linux
      inputs: [{name: app-image}]
      run: {path: sh, args: [-c, "cat app-image/digest; echo; cat app-image/rootfs/etc/app-release"]}
`,
    { user: creds.username, pass: creds.password },
  );
  const build = await node.trigger(id, 'inspect');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, new RegExp(`^${pushedDigest}$`, 'm'));
  assert.match(logs, /app v1/);
  assert.doesNotMatch(JSON.stringify(await node.events(build.id)), new RegExp(creds.password));
  const fetched = (await node.events(build.id)).flatMap((e) => (e.event === 'finish-get' ? [e.data.version] : []));
  assert.deepEqual(fetched, [{ tag: 'v1', digest: pushedDigest }]);
});
