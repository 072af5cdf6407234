// Rootless containers' decisions (src/runtime/local/rootless.ts; docs/local-containers.md,
// "Rootless"): one row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdMappings, containersMode, holderId, holderMapArgs, hostIdOf, rootlessRefusal, rootlessTeams, subordinateIds, teamSlice, type HostFacts } from '../../../src/runtime/local/rootless.ts';

const subRows: { name: string; text: string; expected: { start: number; count: number } | undefined }[] = [
  { name: 'by name', text: 'ci:100000:65536\n', expected: { start: 100000, count: 65536 } },
  { name: 'by uid', text: '1001:200000:131072\n', expected: { start: 200000, count: 131072 } },
  { name: 'another user only', text: 'bob:100000:65536\n', expected: undefined },
  { name: 'comments, blanks and malformed lines skipped', text: '# x\n\nci:abc:10\nci:1:\nci:300000:70000\n', expected: { start: 300000, count: 70000 } },
  { name: 'the largest of several blocks', text: 'ci:100000:65536\nci:1000000:4194304\n', expected: { start: 1000000, count: 4194304 } },
  { name: 'a zero count or a range past 2^32-1 is no block', text: 'ci:5:0\nci:4294967000:65536\n', expected: undefined },
  { name: 'an empty file', text: '', expected: undefined },
];
for (const row of subRows) test(`subordinateIds: ${row.name}`, () => assert.deepEqual(subordinateIds(row.text, 'ci', 1001), row.expected));

const facts = (f: Partial<HostFacts>): HostFacts => ({
  platform: 'linux',
  uid: 1001,
  user: 'ci',
  runcPath: '/usr/sbin/runc',
  runc: true,
  newuidmap: true,
  newgidmap: true,
  subuid: { start: 100000, count: 4 * 65536 },
  subgid: { start: 200000, count: 4 * 65536 },
  ...f,
});
const modeRows: { name: string; facts: HostFacts; expected: ReturnType<typeof containersMode> }[] = [
  { name: 'not Linux', facts: facts({ platform: 'darwin' }), expected: { mode: 'unusable', reason: 'containers need Linux (this is darwin)' } },
  { name: 'no runc', facts: facts({ runc: false }), expected: { mode: 'unusable', reason: 'runc is not installed at /usr/sbin/runc (apt-get install runc)' } },
  { name: 'root: rootful, whatever else', facts: facts({ uid: 0, newuidmap: false, subuid: undefined }), expected: { mode: 'rootful' } },
  { name: 'not root, no newuidmap/newgidmap', facts: facts({ newuidmap: false, newgidmap: false }), expected: { mode: 'unusable', reason: 'the web node is not root and rootless containers need newuidmap and newgidmap (apt-get install uidmap)' } },
  { name: 'not root, no subuid range', facts: facts({ subuid: undefined }), expected: { mode: 'unusable', reason: 'no /etc/subuid range for user ci (rootless containers need one: usermod --add-subuids START-END ci)' } },
  { name: 'not root, no subgid range', facts: facts({ subgid: undefined }), expected: { mode: 'unusable', reason: 'no /etc/subgid range for user ci (rootless containers need one: usermod --add-subgids START-END ci)' } },
  { name: 'a range too small for one container', facts: facts({ subgid: { start: 200000, count: 1000 } }), expected: { mode: 'unusable', reason: 'the /etc/subuid and /etc/subgid ranges of user ci hold 1000 ids, fewer than the 65535 a container needs' } },
  {
    name: 'rootless: the smaller count of the two, teams that fit beside slice 0',
    facts: facts({ subgid: { start: 200000, count: 3 * 65536 } }),
    expected: { mode: 'rootless', subuid: { start: 100000, count: 3 * 65536 }, subgid: { start: 200000, count: 3 * 65536 }, teams: 2 },
  },
];
for (const row of modeRows) test(`containersMode: ${row.name}`, () => assert.deepEqual(containersMode(row.facts), row.expected));

const teamRows: { count: number; teams: number }[] = [
  { count: 65535, teams: 0 },
  { count: 65536, teams: 0 },
  { count: 2 * 65536 - 1, teams: 1 },
  { count: 2 * 65536, teams: 1 },
  { count: 4194304, teams: 63 },
];
for (const row of teamRows) test(`rootlessTeams: ${row.count} ids give ${row.teams} team(s)`, () => assert.equal(rootlessTeams(row.count), row.teams));

const mode = { subuid: { start: 100000, count: 3 * 65536 }, teams: 2 };
const sliceRows: { name: string; teamId: number | undefined; expected: ReturnType<typeof teamSlice> }[] = [
  { name: 'no team: slice 0', teamId: undefined, expected: { ok: true, slice: 0 } },
  { name: 'team 1: its own slice', teamId: 1, expected: { ok: true, slice: 1 } },
  { name: 'the last team that fits', teamId: 2, expected: { ok: true, slice: 2 } },
  {
    name: 'a team past the range is refused, saying how many ids it needs',
    teamId: 3,
    expected: {
      ok: false,
      message:
        "team 3 has no ids of its own for rootless containers: the web node's subordinate ids 100000-296607 give 2 team(s) 65536 ids each (teams 1-2); give the web node's user at least 262144 ids in /etc/subuid and /etc/subgid, or run it as root",
    },
  },
];
for (const row of sliceRows) test(`teamSlice: ${row.name}`, () => assert.deepEqual(teamSlice(row.teamId, mode), row.expected));
test('teamSlice: team 0 gets no slice (never slice 0, which the runtime keeps for itself)', () => assert.equal(teamSlice(0, mode).ok, false));

const idRows: { name: string; id: number; slice: number; holder: number; host: number }[] = [
  { name: "the container's root is the web node's uid", id: 0, slice: 1, holder: 0, host: 1001 },
  { name: 'uid 1 of slice 0 is the first subordinate id', id: 1, slice: 0, holder: 1, host: 100000 },
  { name: 'nonroot (1000) of team 1', id: 1000, slice: 1, holder: 66536, host: 166535 },
  { name: 'the same uid of team 2 is another host id', id: 1000, slice: 2, holder: 132072, host: 232071 },
  { name: '65535, the last id a container maps', id: 65535, slice: 1, holder: 131071, host: 231070 },
  { name: 'an id past 65535 is the overflow id (nobody)', id: 70000, slice: 1, holder: 131070, host: 231069 },
];
for (const row of idRows) {
  test(`holderId/hostIdOf: ${row.name}`, () => {
    assert.equal(holderId(row.id, row.slice), row.holder);
    assert.equal(hostIdOf(row.id, row.slice, 1001, { start: 100000, count: 3 * 65536 }), row.host);
  });
}

test('containerIdMappings: root to the holder root, 1..65535 to the slice', () =>
  assert.deepEqual(containerIdMappings(2), [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: 1, hostID: 131073, size: 65535 },
  ]));

const refusalRows: { name: string; step: Parameters<typeof rootlessRefusal>[0]; expected: RegExp | undefined }[] = [
  { name: 'a plain step runs', step: {}, expected: undefined },
  { name: 'zero limits are no limits', step: { limits: { cpu: 0, memory: 0 } }, expected: undefined },
  { name: 'privileged is refused', step: { privileged: true }, expected: /^privileged steps cannot run in rootless containers/ },
  { name: 'a memory limit is refused', step: { limits: { memory: 1 << 30 } }, expected: /^container_limits cannot be applied in rootless containers/ },
  { name: 'a cpu limit is refused', step: { limits: { cpu: 512 } }, expected: /^container_limits cannot be applied in rootless containers/ },
];
for (const row of refusalRows) {
  test(`rootlessRefusal: ${row.name}`, () => {
    const got = rootlessRefusal(row.step);
    if (row.expected) assert.match(got ?? '', row.expected);
    else assert.equal(got, undefined);
  });
}

test('holderMapArgs: the user itself as root, its subordinate ids from 1', () =>
  assert.deepEqual(holderMapArgs({ subuid: { start: 100000, count: 65536 }, subgid: { start: 200000, count: 65536 } }), [
    '--user',
    '--map-root-user',
    '--map-users=100000,1,65536',
    '--map-groups=200000,1,65536',
  ]));
