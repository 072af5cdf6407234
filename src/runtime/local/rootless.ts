// Rootless containers on the local runtime (issue 19; docs/local-containers.md, "Rootless"): the
// pure decisions, table-tested (test/runtime/local/rootless.test.ts). The I/O that gathers the
// facts is runc.ts's `probeContainers`; the namespace that uses the ids is containers/userns.ts.
//
// A web node that is not root runs its containers inside one user namespace of its own (the
// "holder", made with newuidmap/newgidmap): its own uid is the namespace's 0, its subordinate ids
// (/etc/subuid, /etc/subgid) the namespace's 1..count. Each container then gets a user namespace
// nested in it, mapping the container's root to the web node's uid (as rootless Docker and Podman
// do: what the container's root writes is the web node's, so the engine reads and moves outputs as
// it does with a root web node) and the container's 1..65535 to its team's slice of the
// subordinate ids.
import type { IdMapping } from './containers/oci-spec.ts';

/** A block of subordinate ids (/etc/subuid or /etc/subgid): start and count. */
export interface IdBlock {
  start: number;
  count: number;
}

/** Ids of a team slice: the container's 1..65535 (its root is the web node's uid). */
export const SLICE_SIZE = 65_536;

/**
 * The user's first block in /etc/subuid or /etc/subgid (`name:start:count` or `uid:start:count`
 * lines; comments and malformed lines skipped), or undefined. One block is used: a namespace's
 * mapping of it is one line.
 */
export function subordinateIds(text: string, user: string, uid: number): IdBlock | undefined {
  let best: IdBlock | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [who, start, count] = trimmed.split(':');
    if (who !== user && who !== String(uid)) continue;
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    const block = { start: Number(start), count: Number(count) };
    if (block.count <= 0 || block.start + block.count > 2 ** 32 - 1) continue;
    // the largest block holds the most team slices
    if (!best || block.count > best.count) best = block;
  }
  return best;
}

/** What the web node's host offers for containers (gathered once at start-up). */
export interface HostFacts {
  platform: string;
  /** the web node's uid and user name */
  uid: number;
  user: string;
  /** runc's path, and whether it is executable */
  runcPath: string;
  runc: boolean;
  /** newuidmap and newgidmap (Debian's uidmap) on the PATH */
  newuidmap: boolean;
  newgidmap: boolean;
  /** the user's blocks (undefined: none) */
  subuid?: IdBlock;
  subgid?: IdBlock;
}

export type ContainersMode =
  | { mode: 'rootful' }
  | {
      mode: 'rootless';
      /** the subordinate ids the holder namespace maps (the smaller of the two blocks' counts) */
      subuid: IdBlock;
      subgid: IdBlock;
      /** how many teams (ids 1..teams) get a slice of their own */
      teams: number;
    }
  | { mode: 'unusable'; reason: string };

/**
 * Rootful when the web node is root, rootless when it is not and has what rootless needs,
 * otherwise why not (one clause: the start-up line says it). Runtime probes that need I/O (runc
 * runs, overlay mounts work) come after.
 */
export function containersMode(f: HostFacts): ContainersMode {
  if (f.platform !== 'linux') return { mode: 'unusable', reason: `containers need Linux (this is ${f.platform})` };
  if (!f.runc) return { mode: 'unusable', reason: `runc is not installed at ${f.runcPath} (apt-get install runc)` };
  if (f.uid === 0) return { mode: 'rootful' };
  const missing = [!f.newuidmap && 'newuidmap', !f.newgidmap && 'newgidmap'].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) return { mode: 'unusable', reason: `the web node is not root and rootless containers need ${missing.join(' and ')} (apt-get install uidmap)` };
  if (!f.subuid) return { mode: 'unusable', reason: `no /etc/subuid range for user ${f.user} (rootless containers need one: usermod --add-subuids START-END ${f.user})` };
  if (!f.subgid) return { mode: 'unusable', reason: `no /etc/subgid range for user ${f.user} (rootless containers need one: usermod --add-subgids START-END ${f.user})` };
  const count = Math.min(f.subuid.count, f.subgid.count);
  if (count < SLICE_SIZE - 1) return { mode: 'unusable', reason: `the /etc/subuid and /etc/subgid ranges of user ${f.user} hold ${count} ids, fewer than the 65535 a container needs` };
  return { mode: 'rootless', subuid: { start: f.subuid.start, count }, subgid: { start: f.subgid.start, count }, teams: rootlessTeams(count) };
}

/** How many teams get a slice of their own in `count` subordinate ids (slice 0 is the shared one). */
export function rootlessTeams(count: number): number {
  return Math.max(0, Math.floor((count + 1) / SLICE_SIZE) - 1);
}

/**
 * The first id (in the holder namespace) of a slice: slice s is the holder's 1 + 65536·s ..
 * 65536·s + 65535, i.e. subordinate ids start + 65536·s onwards. Slice 0 is for steps without a
 * team (the runtime's own tests); team t has slice t, so no two teams share an id.
 */
export function sliceBase(slice: number): number {
  return 1 + SLICE_SIZE * slice;
}

export type TeamSlice = { ok: true; slice: number } | { ok: false; message: string };

/**
 * The slice a team's containers use: its own (team id t ≤ teams), else a refusal naming the range
 * and what to do. Teams never share ids (that would let one team's build reach another's files).
 */
export function teamSlice(teamId: number | undefined, mode: { subuid: IdBlock; teams: number }): TeamSlice {
  if (teamId === undefined) return { ok: true, slice: 0 };
  if (Number.isSafeInteger(teamId) && teamId >= 1 && teamId <= mode.teams) return { ok: true, slice: teamId };
  const end = mode.subuid.start + mode.subuid.count - 1;
  const needed = (teamId + 1) * SLICE_SIZE;
  return {
    ok: false,
    message:
      `team ${teamId} has no ids of its own for rootless containers: the web node's subordinate ids ${mode.subuid.start}-${end} ` +
      `give ${mode.teams} team(s) 65536 ids each (teams 1-${mode.teams}); give the web node's user at least ${needed} ids in /etc/subuid and /etc/subgid, or run it as root`,
  };
}

/**
 * The user namespace mapping of a container in slice `slice` (in the holder's ids): the
 * container's 0 is the holder's 0 (the web node's uid), its 1..65535 the slice's.
 */
export function containerIdMappings(slice: number): IdMapping[] {
  return [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: 1, hostID: sliceBase(slice), size: SLICE_SIZE - 1 },
  ];
}

/** A container id as the holder namespace sees it (what the web node's `chown` in it writes). */
export function holderId(containerId: number, slice: number): number {
  if (containerId === 0) return 0;
  if (containerId >= 1 && containerId < SLICE_SIZE) return sliceBase(slice) + containerId - 1;
  // an id the container cannot map: its overflow id, nobody
  return sliceBase(slice) + 65_534 - 1;
}

/** The host id of a container id (for messages and tests): the web node's uid for root, else the subordinate id. */
export function hostIdOf(containerId: number, slice: number, webNodeId: number, sub: IdBlock): number {
  const inHolder = holderId(containerId, slice);
  return inHolder === 0 ? webNodeId : sub.start + inHolder - 1;
}

/** Why a rootless container cannot be made for a step (privileged, limits), or undefined. */
export function rootlessRefusal(step: { privileged?: boolean; limits?: { cpu?: number; memory?: number } }): string | undefined {
  if (step.privileged) return 'privileged steps cannot run in rootless containers (the web node is not root): run the web node as root for them';
  const cpu = step.limits?.cpu ?? 0;
  const memory = step.limits?.memory ?? 0;
  if (cpu > 0 || memory > 0) {
    return 'container_limits cannot be applied in rootless containers (the web node is not root and has no delegated cgroup): remove the limits or run the web node as root';
  }
  return undefined;
}

/** The holder namespace's uid_map/gid_map arguments for unshare (util-linux ≥ 2.38: outer,inner,count). */
export function holderMapArgs(sub: { subuid: IdBlock; subgid: IdBlock }): string[] {
  return ['--user', '--map-root-user', `--map-users=${sub.subuid.start},1,${sub.subuid.count}`, `--map-groups=${sub.subgid.start},1,${sub.subgid.count}`];
}
