// `jetway checklist`'s Checkfile (fly/commands/checklist.go's printCheckfile): one row per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkfile } from '../../src/cli/commands/checklist.ts';

const URL = 'https://ci.example';
const rows: { name: string; config: Parameters<typeof checkfile>[2]; expected: string }[] = [
  {
    name: 'no groups: every job under the pipeline, sorted',
    config: { jobs: [{ name: 'ship', plan: [] }, { name: 'unit', plan: [] }, { name: 'build', plan: [] }] },
    expected: `#- demo\nbuild: concourse.check ${URL} main demo build\nship: concourse.check ${URL} main demo ship\nunit: concourse.check ${URL} main demo unit\n\n`,
  },
  {
    name: 'groups in order, their jobs as listed, then the jobs of no group under misc',
    config: {
      jobs: [{ name: 'unit', plan: [] }, { name: 'ship', plan: [] }, { name: 'lint', plan: [] }, { name: 'audit', plan: [] }],
      groups: [
        { name: 'test', jobs: ['unit', 'lint'] },
        { name: 'release', jobs: ['ship'] },
      ],
    },
    expected:
      `#- test\nunit: concourse.check ${URL} main demo unit\nlint: concourse.check ${URL} main demo lint\n\n` +
      `#- release\nship: concourse.check ${URL} main demo ship\n\n` +
      `#- misc\naudit: concourse.check ${URL} main demo audit\n\n`,
  },
  {
    name: 'groups that name every job: no misc section',
    config: { jobs: [{ name: 'unit', plan: [] }], groups: [{ name: 'all', jobs: ['unit'] }] },
    expected: `#- all\nunit: concourse.check ${URL} main demo unit\n\n`,
  },
  {
    name: 'no jobs: nothing',
    config: { jobs: [] },
    expected: '',
  },
];

for (const row of rows) test(`checkfile: ${row.name}`, () => assert.equal(checkfile('main', 'demo', row.config, URL), row.expected));
