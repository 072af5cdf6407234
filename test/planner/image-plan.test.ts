import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageForType, fetchImagePlan, applyDefaults, type PlannerResourceType } from '../../src/planner/image-plan.ts';
import { publicPlan } from '../../src/model/public-plan.ts';
import type { Plan } from '../../src/model/plan.ts';

const types: PlannerResourceType[] = [
  { name: 'oci-artifact', type: 'registry-image', source: { repository: 'r/registry-image-resource' }, check_every: '5m' },
  { name: 'wrapped-mock', type: 'oci-artifact', source: { repository: 'r/mock-resource' }, privileged: true },
  { name: 'git', type: 'git', source: { uri: 'x' } },
];

function get(plan: Plan | undefined) {
  assert.ok(plan && 'get' in plan, 'expected a get plan');
  return plan.get;
}
function check(plan: Plan | undefined) {
  assert.ok(plan && 'check' in plan, 'expected a check plan');
  return plan.check;
}

test('a base type is used directly', () => {
  assert.deepEqual(imageForType('1', 'mock', types, undefined, false), { base_type: 'mock' });
});

test('a custom type gets a nested check + get with derived ids, checked into the type history', () => {
  const image = imageForType('a', 'oci-artifact', types, ['t1'], false);
  assert.equal(image.base_type, 'registry-image');
  assert.equal(image.check_plan?.id, 'a/image-check');
  assert.equal(image.get_plan?.id, 'a/image-get');
  const c = check(image.check_plan);
  assert.equal(c.resource_type, 'oci-artifact');
  assert.equal(c.interval, '5m');
  assert.deepEqual(c.tags, ['t1']);
  assert.equal(get(image.get_plan).version_from, 'a/image-check');
});

test('a two-level chain recurses down to the base type with nested ids', () => {
  const image = imageForType('a', 'wrapped-mock', types, undefined, true);
  assert.equal(image.base_type, 'registry-image');
  assert.equal(image.privileged, true);
  const inner = get(image.get_plan).image;
  assert.equal(inner.get_plan?.id, 'a/image-get/image-get');
  assert.equal(inner.check_plan?.id, 'a/image-get/image-check');
  assert.equal(check(image.check_plan).skip_interval, true);
  assert.equal(check(image.check_plan).interval, '1m', 'no check_every means the default interval');
});

test('a type shadowing a base type of the same name reaches the base type', () => {
  const image = imageForType('a', 'git', types, undefined, false);
  assert.equal(image.base_type, 'git');
  assert.deepEqual(get(image.get_plan).image, { base_type: 'git' });
});

test('an image with a version gets no check', () => {
  const { get: g, check: c } = fetchImagePlan('t', { name: 'image', type: 'registry-image', source: {}, version: { digest: 'sha256:1' } }, types, undefined, false, undefined);
  assert.equal(c, undefined);
  assert.deepEqual(get(g).version, { digest: 'sha256:1' });
  assert.equal(get(g).version_from, undefined);
});

test('defaults are merged under the source', () => {
  const withDefaults: PlannerResourceType[] = [{ name: 'x', type: 'registry-image', defaults: { tag: 'a', insecure: true } }];
  assert.deepEqual(applyDefaults({ tag: 'b' }, 'x', withDefaults), { tag: 'b', insecure: true });
});

test('the public plan drops sources and params', () => {
  const image = imageForType('a', 'oci-artifact', [{ ...types[0]!, source: { password: 'hunter2', repository: 'r' } }], undefined, false);
  const pub = JSON.stringify(publicPlan(image.get_plan!));
  assert.doesNotMatch(pub, /hunter2/);
  assert.match(pub, /oci-artifact/);
});
