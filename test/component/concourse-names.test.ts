// Concourse's component names (atc/component.go) and the Jetway passes they pause
// (src/component/concourse-names.ts): a stock fly's pause-component --runtime-components and
// --gc-components send these names (fly/commands/pause_component.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONCOURSE_GC_COMPONENTS, CONCOURSE_RUNTIME_COMPONENTS, passesNamed } from '../../src/component/concourse-names.ts';

for (const [name, passes] of [
  ['tracker', ['scheduler']],
  ['scanner', ['checker']],
  ['scheduler', ['scheduler']],
  ['reaper', ['gc']],
  ['collector_resource_caches', ['gc']],
  ['collector_workers', ['gc']],
  ['pipeline_pauser', ['gc']],
  ['collector_containers', ['gc', 'kubernetes-reaper']],
  // Jetway's own names are themselves
  ['checker', ['checker']],
  ['gc', ['gc']],
  ['kubernetes-reaper', ['kubernetes-reaper']],
  // anything else is itself (the route answers 404 when there is no such pass)
  ['nope', ['nope']],
  ['toString', ['toString']],
  ['__proto__', ['__proto__']],
] as const) {
  test(`component ${name} pauses ${passes.join(', ')}`, () => assert.deepEqual(passesNamed(name), passes));
}

test("the lists are atc.ComponentsRuntime and atc.ComponentsGarbageCollection, in fly's order, and every name maps to a Jetway pass", () => {
  assert.deepEqual(CONCOURSE_RUNTIME_COMPONENTS, ['tracker', 'scanner', 'scheduler']);
  assert.equal(CONCOURSE_GC_COMPONENTS.length, 14);
  assert.equal(CONCOURSE_GC_COMPONENTS[0], 'reaper');
  assert.equal(CONCOURSE_GC_COMPONENTS.at(-1), 'pipeline_pauser');
  for (const name of [...CONCOURSE_RUNTIME_COMPONENTS, ...CONCOURSE_GC_COMPONENTS]) {
    for (const pass of passesNamed(name)) assert.ok(['scheduler', 'checker', 'gc', 'kubernetes-reaper'].includes(pass), `${name}: ${pass}`);
  }
});
