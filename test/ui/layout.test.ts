import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobColumnIndex, jobColumns, type JobNode } from '../../src/ui/app/layout.ts';

const job = (name: string, ...passed: string[][]): JobNode => ({ name, inputs: passed.length === 0 ? [{}] : passed.map((p) => ({ passed: p })) });

const cases: { name: string; jobs: JobNode[]; columns: string[][] }[] = [
  { name: 'no jobs', jobs: [], columns: [] },
  { name: 'a job without passed constraints is in column 0', jobs: [job('unit')], columns: [['unit']] },
  { name: 'a job without inputs is in column 0', jobs: [{ name: 'cron', inputs: [] }], columns: [['cron']] },
  { name: 'examples/hello.yml: unit, then ship', jobs: [job('unit'), job('ship', ['unit'])], columns: [['unit'], ['ship']] },
  {
    name: 'a fan-in sits right of its deepest upstream job',
    jobs: [job('unit'), job('lint'), job('integration', ['unit']), job('ship', ['integration'], ['lint'])],
    columns: [['unit', 'lint'], ['integration'], ['ship']],
  },
  {
    name: 'several passed jobs on one input count too',
    jobs: [job('a'), job('b', ['a']), job('c', ['a', 'b'])],
    columns: [['a'], ['b'], ['c']],
  },
  {
    name: 'config order is kept within a column, whatever order the dependencies come in',
    jobs: [job('deploy', ['build']), job('docs'), job('build')],
    columns: [['docs', 'build'], ['deploy']],
  },
  { name: 'a passed job that does not exist is ignored', jobs: [job('ship', ['gone'])], columns: [['ship']] },
  { name: 'a cycle is cut where it closes', jobs: [job('a', ['b']), job('b', ['a'])], columns: [['b'], ['a']] },
];

for (const c of cases) {
  test(`layout: ${c.name}`, () => {
    assert.deepEqual(
      jobColumns(c.jobs).map((col) => col.map((j) => j.name)),
      c.columns,
    );
  });
}

test('jobColumnIndex gives each job its column', () => {
  const index = jobColumnIndex([job('unit'), job('ship', ['unit'])]);
  assert.deepEqual([...index.entries()], [
    ['unit', 0],
    ['ship', 1],
  ]);
});
