// The public plan (GET /builds/:id/plan, image and across events): what a plan shows to whoever
// may read the build, as Concourse's plan.Public(). The across rows follow Concourse's
// atc/public_plan.go (AcrossPlan.Public) and its atc/public_plan_test.go. One test per plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicPlan } from '../../src/model/public-plan.ts';
import type { Plan } from '../../src/model/plan.ts';

const rows: { name: string; plan: unknown; public: unknown }[] = [
  {
    name: "a get keeps its names, never its source or params",
    plan: { id: '1', get: { name: 'repo', type: 'git', resource: 'repo', source: { private_key: 'k' }, params: { depth: 1 } } },
    public: { id: '1', get: { name: 'repo', type: 'git', resource: 'repo' } },
  },
  {
    name: "an across step shows its vars' names only: no values, no substep template (a whole plan, sources included)",
    plan: { id: '2', across: { vars: [{ name: 'os', values: ['linux', 'darwin'], max_in_flight: 2 }], substep_template: '{"id":"t","get":{"source":{"password":"p"}}}', fail_fast: true } },
    public: { id: '2', across: { vars: [{ name: 'os' }], fail_fast: true } },
  },
  {
    name: 'an across step inside a do, without fail_fast',
    plan: { id: '3', do: [{ id: '4', across: { vars: [{ name: 'a', values: ['((secret))'] }, { name: 'b', values: [1] }], substep_template: '{}' } }] },
    public: { id: '3', do: [{ id: '4', across: { vars: [{ name: 'a' }, { name: 'b' }] } }] },
  },
  {
    name: "atc/public_plan_test.go's across step: two vars, max_in_flight 1 and all, fail_fast; names in order, nothing else",
    plan: { id: '39', across: { vars: [{ name: 'v1', values: ['a'], max_in_flight: 1 }, { name: 'v2', values: ['b'], max_in_flight: 'all' }], substep_template: '{"id":"ACROSS_STEP_TEMPLATE"}', fail_fast: true } },
    public: { id: '39', across: { vars: [{ name: 'v1' }, { name: 'v2' }], fail_fast: true } },
  },
  {
    name: "a custom-typed get's image as atc/public_plan.go's GetPlan: image_check_plan and image_get_plan, public too",
    plan: {
      id: '5',
      get: {
        name: 'repo', type: 'my-git', resource: 'repo', source: { token: 't' },
        image: { check_plan: { id: '5/c', check: { name: 'my-git', type: 'registry-image', source: { password: 'p' }, interval: '1m', image: { base_type: 'registry-image' } } }, get_plan: { id: '5/g', get: { name: 'my-git', type: 'registry-image', source: { password: 'p' }, image: { base_type: 'registry-image' } } } },
      },
    },
    public: { id: '5', get: { name: 'repo', type: 'my-git', resource: 'repo', image_get_plan: { id: '5/g', get: { name: 'my-git', type: 'registry-image' } }, image_check_plan: { id: '5/c', check: { name: 'my-git', type: 'registry-image', interval: '1m' } } } },
  },
  {
    name: 'a put of a base type: no image sub-plans, no base_type',
    plan: { id: '6', put: { name: 'out', type: 'git', resource: 'out', source: {}, params: { repository: 'r' }, image: { base_type: 'git', privileged: false } } },
    public: { id: '6', put: { name: 'out', type: 'git', resource: 'out' } },
  },
  {
    name: "a task's image_resource plans as image_get_plan / image_check_plan; an artifact image's name stays",
    plan: { id: '7', task: { name: 'unit', image: 'my-image', privileged: true, config: { run: { path: 'x' } }, image_plan: { base_type: 'registry-image', get_plan: { id: '7/image-get', get: { name: 'image', type: 'registry-image', source: { repository: 'busybox' } } } } } },
    public: { id: '7', task: { name: 'unit', image: 'my-image', privileged: true, image_get_plan: { id: '7/image-get', get: { name: 'image', type: 'registry-image' } } } },
  },
];

for (const row of rows) {
  test(row.name, () => {
    assert.deepEqual(publicPlan(row.plan as Plan), row.public);
  });
}
