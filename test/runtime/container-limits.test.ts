import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerLimits, memoryBytes } from '../../src/runtime/container-limits.ts';

test('container_limits: the step over the config, memory sizes as Concourse reads them', () => {
  assert.equal(containerLimits(undefined, undefined), undefined);
  assert.deepEqual(containerLimits({ cpu: 512, memory: '1GB' }), { cpu: 512, memory: 2 ** 30 });
  assert.deepEqual(containerLimits({ cpu: 512, memory: 100 }, { memory: '512MB' }), { cpu: 512, memory: 512 * 2 ** 20 });
  assert.deepEqual(containerLimits({ cpu: null, memory: null }), undefined);
  assert.equal(memoryBytes('2GiB'), 2 * 2 ** 30);
  assert.equal(memoryBytes('1.5g'), 1.5 * 2 ** 30);
  assert.equal(memoryBytes('100'), 100);
  assert.throws(() => memoryBytes('lots'), /container_limits.memory: 'lots' is not a size/);
});
