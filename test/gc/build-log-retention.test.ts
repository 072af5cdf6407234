import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildsToReap, retentionPolicy, type JobBuild } from '../../src/gc/build-log-retention.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const daysAgo = (d: number): Date => new Date(NOW.getTime() - d * 86_400_000);
/** builds newest first, from a compact spec: s succeeded, f failed, e errored, r running; each a day older */
const builds = (spec: string): JobBuild[] =>
  [...spec].map((c, i) => ({
    id: spec.length - i,
    status: { s: 'succeeded', f: 'failed', e: 'errored', r: 'started' }[c]!,
    completed: c !== 'r',
    endTime: c === 'r' ? null : daysAgo(i),
  }));

test('retentionPolicy: build_log_retention, the deprecated build_logs_to_retain, or none', () => {
  assert.deepEqual(retentionPolicy({ build_log_retention: { builds: 3, minimum_succeeded_builds: 1 } }), { builds: 3, days: 0, minimumSucceededBuilds: 1 });
  assert.deepEqual(retentionPolicy({ build_logs_to_retain: 5 }), { builds: 5, days: 0, minimumSucceededBuilds: 0 });
  assert.deepEqual(retentionPolicy({ build_log_retention: { days: 7 } }), { builds: 0, days: 7, minimumSucceededBuilds: 0 });
  assert.equal(retentionPolicy({}), undefined);
  assert.equal(retentionPolicy({ build_log_retention: { builds: 0 } }), undefined);
  assert.equal(retentionPolicy({ build_log_retention: { minimum_succeeded_builds: 2 } }), undefined, 'a minimum alone reaps nothing');
});

const cases: { name: string; spec: string; policy: Partial<{ builds: number; days: number; minimumSucceededBuilds: number }>; reaped: number[] }[] = [
  { name: 'builds: the newest n keep their logs', spec: 'sfsfs', policy: { builds: 2 }, reaped: [3, 2, 1] },
  { name: 'fewer builds than n: nothing goes', spec: 'sf', policy: { builds: 5 }, reaped: [] },
  { name: 'running builds neither go nor count', spec: 'rrsfs', policy: { builds: 2 }, reaped: [1] },
  { name: 'days: builds that ended longer ago go', spec: 'sssss', policy: { days: 2 }, reaped: [2, 1] },
  { name: 'days win over builds', spec: 'sssss', policy: { builds: 4, days: 1 }, reaped: [3, 2, 1] },
  { name: 'minimum_succeeded_builds keeps an older success in place of the oldest kept failure', spec: 'fffsfs', policy: { builds: 3, minimumSucceededBuilds: 1 }, reaped: [4, 2, 1] },
  { name: 'minimum_succeeded_builds already met by the newest builds', spec: 'sffss', policy: { builds: 3, minimumSucceededBuilds: 1 }, reaped: [2, 1] },
  { name: 'minimum of two among failures', spec: 'fffsss', policy: { builds: 3, minimumSucceededBuilds: 2 }, reaped: [5, 4, 1] },
];
for (const c of cases) {
  test(`buildsToReap: ${c.name}`, () => {
    const policy = { builds: 0, days: 0, minimumSucceededBuilds: 0, ...c.policy };
    assert.deepEqual(buildsToReap(builds(c.spec), policy, NOW), c.reaped);
  });
}
