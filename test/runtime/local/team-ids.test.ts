// Each team's host ids on the local runtime (issue 16, finding 4): one row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TEAM_ID, TEAM_ID_BASE, TEAM_ID_RANGE_SIZE, shiftedId, teamBuildUser, teamIdRange } from '../../../src/runtime/local/team-ids.ts';

const rangeRows: { name: string; teamId: number | undefined; hostId?: number; error?: RegExp }[] = [
  { name: 'no team: range 0, which no team has', teamId: undefined, hostId: TEAM_ID_BASE },
  { name: 'team 1', teamId: 1, hostId: TEAM_ID_BASE + 65_536 },
  { name: 'team 2 starts where team 1 ends', teamId: 2, hostId: TEAM_ID_BASE + 2 * 65_536 },
  { name: 'the largest team id still ends below 2^32 - 1', teamId: MAX_TEAM_ID, hostId: TEAM_ID_BASE + MAX_TEAM_ID * 65_536 },
  { name: 'one more has no range', teamId: MAX_TEAM_ID + 1, error: /team id 49151 has no host id range on the local runtime \(0 to 49150\)/ },
  { name: 'a negative id has none', teamId: -1, error: /team id -1 has no host id range/ },
  { name: 'a fraction has none', teamId: 1.5, error: /team id 1.5 has no host id range/ },
];
for (const row of rangeRows) {
  test(`teamIdRange: ${row.name}`, () => {
    if (row.error) assert.throws(() => teamIdRange(row.teamId), row.error);
    else assert.deepEqual(teamIdRange(row.teamId), { hostId: row.hostId, size: TEAM_ID_RANGE_SIZE });
  });
}

test('teamIdRange: the last id of the largest range is a valid id (below 4294967295)', () => {
  const r = teamIdRange(MAX_TEAM_ID);
  assert.ok(r.hostId + r.size - 1 < 2 ** 32 - 1);
});

const userRows: { name: string; teamId: number | undefined; user: { name: string; uid: number; gid: number } }[] = [
  { name: 'team 3 runs as its range’s first id, uid = gid', teamId: 3, user: { name: 'jetway-team-3', uid: TEAM_ID_BASE + 3 * 65_536, gid: TEAM_ID_BASE + 3 * 65_536 } },
  { name: 'no team: jetway-build, range 0', teamId: undefined, user: { name: 'jetway-build', uid: TEAM_ID_BASE, gid: TEAM_ID_BASE } },
];
for (const row of userRows) test(`teamBuildUser: ${row.name}`, () => assert.deepEqual(teamBuildUser(row.teamId), row.user));

const R = { hostId: TEAM_ID_BASE + 65_536, size: 65_536 };
const shiftRows: { name: string; id: number; expected: number }[] = [
  { name: "the image's root becomes the range's first id", id: 0, expected: R.hostId },
  { name: "an image's user 1000 moves into the range", id: 1000, expected: R.hostId + 1000 },
  { name: 'the last id of the range’s size moves in', id: 65_535, expected: R.hostId + 65_535 },
  { name: 'an id already in the range stays', id: R.hostId + 42, expected: R.hostId + 42 },
  { name: "another team's id becomes the range's nobody, never that team's", id: TEAM_ID_BASE + 2 * 65_536, expected: R.hostId + 65_534 },
  { name: 'an id above the size but below the base becomes nobody', id: 100_000, expected: R.hostId + 65_534 },
];
for (const row of shiftRows) test(`shiftedId: ${row.name}`, () => assert.equal(shiftedId(row.id, R), row.expected));
