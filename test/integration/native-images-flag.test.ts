// `jetway web --kubernetes-native-images[=true|false]`: default on, `=false` sends images through
// check + get pods, a Kubernetes flag (refused with the local runtime), documented in --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/program.ts';
import { kubernetesFlags, nativeImagesFlag, NATIVE_IMAGES_FLAG } from '../../src/cli/commands/web.ts';
import { FlagError } from '../../src/web/options.ts';
import { capture } from '../support/cli.ts';

test('--kubernetes-native-images: true by default and when given bare, false with =false, anything else a flag error naming it', () => {
  assert.equal(nativeImagesFlag({}), true);
  assert.equal(nativeImagesFlag({ kubernetesNativeImages: true }), true);
  assert.equal(nativeImagesFlag({ kubernetesNativeImages: 'true' }), true);
  assert.equal(nativeImagesFlag({ kubernetesNativeImages: 'false' }), false);
  assert.equal(nativeImagesFlag({ kubernetesNativeImages: 'FALSE' }), false);
  assert.throws(() => nativeImagesFlag({ kubernetesNativeImages: 'off-ish' }), (err: unknown) => err instanceof FlagError && err.message.startsWith(`${NATIVE_IMAGES_FLAG}: 'off-ish'`));
});

test('--kubernetes-native-images needs --runtime kubernetes', () => {
  const base = { port: '8080', bindIp: '0.0.0.0', dataDir: '/tmp/x', addLocalUser: [], mainTeamLocalUser: [], logLevel: 'info' };
  assert.throws(() => kubernetesFlags({ ...base, runtime: 'local', kubernetesNativeImages: 'false' }), /--kubernetes-native-images: needs --runtime kubernetes/);
  assert.equal(kubernetesFlags({ ...base, runtime: 'local' }), undefined);
});

test('jetway web --help documents --kubernetes-native-images', async () => {
  const io = capture();
  const code = await runCli(['web', '--help'], io);
  assert.equal(code, 0);
  assert.match(io.out, /--kubernetes-native-images \[bool\]/);
  assert.match(io.out, /check \+ get pods/);
});

test('jetway web --kubernetes-native-images=maybe is a usage error naming the flag, before anything starts', async () => {
  const io = capture();
  const code = await runCli(['web', '--runtime', 'kubernetes', '--add-local-user', 'a:b', '--kubernetes-native-images=maybe'], io);
  assert.equal(code, 2);
  assert.match(io.err, /--kubernetes-native-images: 'maybe' is not a boolean/);
});
