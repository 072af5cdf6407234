// Teams: list, show, set (create or replace the auth), rename, destroy, as Concourse's
// `fly teams/set-team/rename-team/destroy-team`. Admins (owners of team main) manage teams; a
// team's owner may set its auth. Team main's owners come from the web node's flags.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkIdentifier } from '../../config/identifier.ts';
import { destroyTeam, findTeam, listTeamRecords, renameTeam, saveTeam, type TeamRecord } from '../../db/teams.ts';
import type { AuthUser } from '../auth.ts';
import { currentUser, parseWith, requireAdmin, type ApiServerOptions } from '../context.ts';
import { ApiError, forbidden, notFound } from '../errors.ts';
import { unsafeNameProblem } from '../names.ts';
import { authProblems, localUser, MAIN_TEAM, ROLES, strongest, teamAuthSchema, type TeamAuth } from '../roles.ts';
import type { RenameTeamResponse, SetTeamResponse, Team } from '../wire.ts';

const setTeamBody = z.object({ auth: teamAuthSchema }).passthrough();
const renameBody = z.object({ name: z.string().min(1, 'required') });

type TeamParams = { Params: { team: string } };

export function registerTeamRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db, auth } = opts;

  /** Team main's auth as the web node's flags configure it. */
  const mainAuth = (): TeamAuth => ({ owner: { users: [...auth.mainTeamUsers].map(localUser), groups: [] } });

  /** A team as the API shows it: its auth only to its owners and admins. */
  const teamJson = (t: TeamRecord, user: AuthUser): Team => {
    const seesAuth = user.isAdmin || strongest(user.roles[t.name] ?? []) === 'owner';
    return { id: t.id, name: t.name, ...(seesAuth ? { auth: t.name === MAIN_TEAM ? mainAuth() : t.auth } : {}) };
  };

  const refuseMain = (team: string, what: string): void => {
    if (team === MAIN_TEAM) throw new ApiError('JW_MAIN_TEAM_PROTECTED', `team ${MAIN_TEAM} cannot be ${what}: its owners are the web node's --main-team-local-user users`);
  };

  const validName = (name: string, field: string): string[] => {
    const problem = checkIdentifier(name);
    if (name.includes('/')) throw new ApiError('JW_INVALID_TEAM_NAME', 'invalid team name', [`${field}: '${name}' cannot contain '/'`]);
    const unsafe = unsafeNameProblem(name);
    if (unsafe) throw new ApiError('JW_INVALID_TEAM_NAME', 'invalid team name', [`${field}: ${JSON.stringify(name)} ${unsafe}`]);
    if (problem?.severity === 'error') throw new ApiError('JW_INVALID_TEAM_NAME', 'invalid team name', [`${field}: ${problem.message}`]);
    return problem ? [`${field}: ${problem.message}`] : [];
  };

  app.get('/teams', async (req): Promise<Team[]> => {
    const user = currentUser(req);
    return (await listTeamRecords(db, user.isAdmin ? undefined : user.teams)).map((t) => teamJson(t, user));
  });

  app.get<TeamParams>('/teams/:team', async (req): Promise<Team> => {
    const user = currentUser(req);
    const team = user.teams.includes(req.params.team) ? await findTeam(db, req.params.team) : undefined;
    if (!team) throw notFound('JW_TEAM_NOT_FOUND', `team ${req.params.team}`);
    return teamJson(team, user);
  });

  // PUT /teams/:team {"auth": {<role>: {"users": ["local:<name>"], "groups": []}}}: 201 created,
  // 200 replaced, with warnings (a user no web node flag configures cannot log in yet).
  app.put<TeamParams>('/teams/:team', async (req: FastifyRequest<TeamParams>, reply) => {
    const user = currentUser(req);
    const name = req.params.team;
    refuseMain(name, 'set');
    const body = parseWith(setTeamBody, req.body ?? {}, 'body');
    const problems = authProblems(body.auth);
    if (problems.length > 0) throw new ApiError('JW_INVALID_TEAM_AUTH', 'invalid team auth', problems);
    const warnings = validName(name, 'team');
    const existing = await findTeam(db, name);
    if (!existing) requireAdmin(user, `create team ${name}`);
    else if (!user.isAdmin && strongest(user.roles[name] ?? []) !== 'owner') throw forbidden(`user ${user.name} cannot set team ${name}: only its owners and admins can`);
    const known = new Set(auth.userNames.map(localUser));
    for (const role of ROLES) {
      for (const u of body.auth[role]?.users ?? []) {
        if (!u.startsWith('local:')) warnings.push(`auth.${role}.users: '${u}' names no local user (write local:<name>); nobody can log in as it`);
        else if (!known.has(u)) warnings.push(`auth.${role}.users: ${u.slice('local:'.length)} is not a local user of this web node (--add-local-user); they cannot log in yet`);
      }
      if ((body.auth[role]?.groups.length ?? 0) > 0) warnings.push(`auth.${role}.groups: groups need an identity provider, which this web node has not; they give nobody a role yet`);
    }
    const { created } = await saveTeam(db, name, body.auth);
    opts.lookups?.teamsChanged(); // its roles count at this node's next request, before the NOTIFY comes back
    req.log.info({ team: name, created, by: user.name }, 'team set');
    const saved = await findTeam(db, name);
    const answer: SetTeamResponse = { team: saved ? teamJson(saved, await auth.user(db, user.name)) : { name }, warnings };
    return reply.code(created ? 201 : 200).send(answer);
  });

  app.put<TeamParams>('/teams/:team/rename', async (req, reply) => {
    const user = currentUser(req);
    requireAdmin(user, `rename team ${req.params.team}`);
    refuseMain(req.params.team, 'renamed');
    const body = parseWith(renameBody, req.body ?? {}, 'body');
    refuseMain(body.name, 'replaced');
    const warnings = validName(body.name, 'name');
    await renameTeam(db, req.params.team, body.name);
    opts.lookups?.teamsChanged();
    req.log.info({ team: req.params.team, to: body.name, by: user.name }, 'team renamed');
    const answer: RenameTeamResponse = { warnings };
    return reply.code(200).send(answer);
  });

  app.delete<TeamParams>('/teams/:team', async (req, reply) => {
    const user = currentUser(req);
    requireAdmin(user, `destroy team ${req.params.team}`);
    refuseMain(req.params.team, 'destroyed');
    if (!(await findTeam(db, req.params.team))) throw notFound('JW_TEAM_NOT_FOUND', `team ${req.params.team}`);
    await destroyTeam(db, req.params.team);
    opts.lookups?.teamsChanged();
    req.log.info({ team: req.params.team, by: user.name }, 'team destroyed');
    return reply.code(204).send();
  });
}
