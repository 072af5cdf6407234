// Team roles, as Concourse has them: what each role of a team may do through the API. Pure.
//
// owner: everything in the team, and its own auth (set-team); member: everything in the team
// but its auth; pipeline-operator: run what is there (trigger, rerun, abort, pause/unpause,
// check, pin, enable/disable versions, clear task caches) but not change it (set/destroy
// pipelines, execute, intercept); viewer: read. An admin (an owner of team main) is an owner of
// every team and manages teams (create, rename, destroy).
import { z } from 'zod';

export const ROLES = ['owner', 'member', 'pipeline-operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The team that holds the admins, configured by the web node's flags (never set-team). */
export const MAIN_TEAM = 'main';

const RANK: Record<Role, number> = { viewer: 0, 'pipeline-operator': 1, member: 2, owner: 3 };

/** Whether holding `held` is enough for what needs `needed`. */
export function satisfies(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}

/** The strongest of a user's roles in a team. */
export function strongest(roles: readonly Role[]): Role | undefined {
  return [...roles].sort((a, b) => RANK[b] - RANK[a])[0];
}

// Routes (relative to /api/v1) a pipeline-operator may call besides reading: method and path.
const OPERATOR_ROUTES: readonly (readonly [method: string, path: RegExp])[] = [
  ['PUT', /^\/teams\/:team\/pipelines\/:pipeline\/(pause|unpause)$/],
  ['PUT', /^\/teams\/:team\/pipelines\/:pipeline\/jobs\/:job\/(pause|unpause)$/],
  ['POST', /^\/teams\/:team\/pipelines\/:pipeline\/jobs\/:job\/builds(\/:build)?$/],
  ['PUT', /^\/builds\/:id\/abort$/],
  ['DELETE', /^\/teams\/:team\/pipelines\/:pipeline\/jobs\/:job\/tasks\/:step\/cache$/],
  ['POST', /^\/teams\/:team\/pipelines\/:pipeline\/(resources|resource-types)\/:\w+\/check$/],
  ['PUT', /^\/teams\/:team\/pipelines\/:pipeline\/resources\/:resource\/(unpin|pin_comment)$/],
  ['PUT', /^\/teams\/:team\/pipelines\/:pipeline\/resources\/:resource\/versions\/:version\/(pin|enable|disable)$/],
];

/**
 * The role a request to a team's route needs: reading needs a viewer, the operator routes a
 * pipeline-operator, every other change a member. `route` is fastify's route pattern.
 */
export function requiredRole(method: string, route: string): Role {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'viewer';
  const path = route.replace(/^\/api\/v1(?=\/)/, '');
  return OPERATOR_ROUTES.some(([verb, pattern]) => verb === m && pattern.test(path)) ? 'pipeline-operator' : 'member';
}

/**
 * A team's auth as Concourse stores it: per role, the users (`local:<name>`) and groups that
 * hold it. Groups come from identity providers, which Jetway has not yet: kept, never matched.
 */
const roleMembers = z.object({ users: z.array(z.string().min(1)).default([]), groups: z.array(z.string().min(1)).default([]) }).strict();
export const teamAuthSchema = z
  .object({ owner: roleMembers.optional(), member: roleMembers.optional(), 'pipeline-operator': roleMembers.optional(), viewer: roleMembers.optional() })
  .strict();
export type TeamAuth = z.infer<typeof teamAuthSchema>;

/** How a local user is named in a team's auth (Concourse's connector prefix). */
export function localUser(name: string): string {
  return `local:${name}`;
}

/**
 * The roles `user` (as the auth names it, e.g. `local:alice`) holds, by team, from the teams'
 * stored auth: a role's `users` list names the user. Team main is left out (its owners are the
 * web node's flags); keys that are not roles are ignored.
 */
export function rolesFromAuth(
  teams: readonly { name: string; auth: Readonly<Record<string, { users?: unknown } | undefined>> }[],
  user: string,
  mainTeam: string,
): Map<string, Role[]> {
  const out = new Map<string, Role[]>();
  for (const team of teams) {
    if (team.name === mainTeam) continue;
    const held = ROLES.filter((role) => {
      const users = team.auth[role]?.users;
      return Array.isArray(users) && users.includes(user);
    });
    if (held.length > 0) out.set(team.name, held);
  }
  return out;
}

/** Problems that make an auth useless: nobody could act for the team. */
export function authProblems(auth: TeamAuth): string[] {
  const anyone = ROLES.some((r) => (auth[r]?.users.length ?? 0) + (auth[r]?.groups.length ?? 0) > 0);
  return anyone ? [] : ['auth: no role has a user or group; nobody could log in to the team'];
}
