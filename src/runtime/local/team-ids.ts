// Each team's host identity on the local runtime (issue 16, finding 4; docs/local-containers.md,
// "Teams"; docs/security.md, "Runtimes"). A root web node runs a team's steps as host ids no other
// team has, so one team's task can neither read another's build directories, caches and resource
// caches (0700, owned by that team's id) nor signal or trace its processes.
//
// A team's ids are a fixed base + its database id × 65,536, with no /etc/passwd entry: nothing to
// create or delete (a team made or renamed through the API needs no user), no 32-character name
// limit, and a renamed team keeps its ids. The same range is the team's user namespace on the
// containers runtime: its first id is the containers' root, so a team's files have the same owner
// in both modes. The base (2^30) lies above the ranges useradd and /etc/subuid hand out
// (1000-60000 and 100000 + 65,536 per user).
import type { IdRange } from './containers/oci-spec.ts';

/** The first host id of team ranges. */
export const TEAM_ID_BASE = 2 ** 30;
/** Host ids per team: a user namespace's 0..65535 (what images use, nobody = 65534 included). */
export const TEAM_ID_RANGE_SIZE = 65_536;
/** The largest team id with a whole range below 2^32 - 1 (the kernel's invalid id). */
export const MAX_TEAM_ID = Math.floor((2 ** 32 - 1 - TEAM_ID_BASE) / TEAM_ID_RANGE_SIZE) - 1;

/**
 * A team's range of host ids. Steps without a team (runtime tests, a probe) get range 0, which no
 * team has (team ids start at 1).
 */
export function teamIdRange(teamId: number | undefined): IdRange {
  const id = teamId ?? 0;
  if (!Number.isSafeInteger(id) || id < 0 || id > MAX_TEAM_ID) {
    throw new Error(`team id ${String(teamId)} has no host id range on the local runtime (0 to ${MAX_TEAM_ID})`);
  }
  return { hostId: TEAM_ID_BASE + id * TEAM_ID_RANGE_SIZE, size: TEAM_ID_RANGE_SIZE };
}

/** The host user a team's step processes run as on the processes runtime (the range's first id, uid = gid). */
export function teamBuildUser(teamId: number | undefined): { name: string; uid: number; gid: number } {
  const { hostId } = teamIdRange(teamId);
  return { name: teamId === undefined ? 'jetway-build' : `jetway-team-${teamId}`, uid: hostId, gid: hostId };
}

/**
 * The host id a file of an image gets in a team's range: an id of the range stays; an image's own
 * id (below the range's size) moves into it; anything else (another team's ids, an id no user
 * namespace maps) becomes the range's nobody (65534), never something another team owns.
 */
export function shiftedId(id: number, range: IdRange): number {
  if (id >= range.hostId && id < range.hostId + range.size) return id;
  if (id >= 0 && id < range.size) return range.hostId + id;
  return range.hostId + 65_534;
}

/** Whether a host id is in the range. */
export function inRange(id: number, range: IdRange): boolean {
  return id >= range.hostId && id < range.hostId + range.size;
}
