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
];

for (const row of rows) {
  test(row.name, () => {
    assert.deepEqual(publicPlan(row.plan as Plan), row.public);
  });
}
