// One-off builds (`jetway execute`, docs/concourse-semantics.md §7.2): artifact uploads (a tar or gzipped
// tar of a local directory), artifact downloads (what an `artifact_output` step saved), a
// build's artifacts, and `POST /teams/:team/builds` with a plan.
//
// Uploads are stored under `<artifactsDir>/uploads/team-<id>/` and recorded in the `artifacts`
// table (name '', no build until an `artifact_input` step uses them). The engine's
// `artifact_output` step writes rows with the output's name and the build's id.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as tar from 'tar';
import { getArtifact, listBuildArtifacts, saveUploadedArtifact, type ArtifactRecord } from '../../db/artifacts.ts';
import { createOneOffBuild, getBuild } from '../../db/builds.ts';
import type { Plan } from '../../model/plan.ts';
import { ApiError, notFound, unavailable } from '../errors.ts';
import { assertTeam, currentUser, idParam, type ApiServerOptions } from '../context.ts';
import { findTeam, type TeamRecord } from '../../db/teams.ts';
import { buildJson, unix } from '../queries.ts';
import type { Artifact, Build } from '../wire.ts';
import { isGzip } from '../../engine/steps/artifacts.ts';
import { errorText } from '../../log.ts';

export const ARTIFACT_CONTENT_TYPES = [
  'application/octet-stream',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/tar',
  'application/x-gtar',
];

const DEFAULT_ARTIFACT_LIMIT = 1024 * 1024 * 1024;

const artifactJson = (a: ArtifactRecord): Artifact => ({ id: a.id, name: a.name, build_id: a.buildId ?? undefined, created_at: unix(a.createdAt) });

// ------------------------------------------------------------------------------ plan validation

/** The step keys a plan node may have (exactly one of them). */
export const STEP_KEYS = [
  'get',
  'put',
  'check',
  'task',
  'set_pipeline',
  'load_var',
  'artifact_input',
  'artifact_output',
  'do',
  'in_parallel',
  'across',
  'on_success',
  'on_failure',
  'on_abort',
  'on_error',
  'ensure',
  'try',
  'timeout',
  'retry',
] as const;

const HOOKS = ['on_success', 'on_failure', 'on_abort', 'on_error', 'ensure'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface PlanCheck {
  errors: string[];
  /** `artifact_input` nodes: where they are and the artifact they name. */
  artifactInputs: { at: string; id: number }[];
}

/**
 * Loose validation of a plan from a client: every node is an object with a string `id` and
 * exactly one step key; composite steps are followed; leaf steps have the fields the engine
 * cannot do without. Problems are `path: message` (the path from `body`).
 */
export function checkPlan(value: unknown, at = 'body', out: PlanCheck = { errors: [], artifactInputs: [] }): PlanCheck {
  const err = (path: string, message: string) => void out.errors.push(`${path}: ${message}`);
  if (!isObject(value)) {
    err(at, 'must be a plan object ({"id": …, "<step>": …})');
    return out;
  }
  if (typeof value.id !== 'string' || value.id === '') err(`${at}.id`, 'required: a non-empty string');
  const steps = STEP_KEYS.filter((k) => k in value);
  if (steps.length === 0) {
    const others = Object.keys(value).filter((k) => k !== 'id' && k !== 'attempts');
    err(at, `has no step: expected one of ${STEP_KEYS.join(', ')}${others.length > 0 ? ` (got ${others.join(', ')})` : ''}`);
    return out;
  }
  if (steps.length > 1) {
    err(at, `has more than one step (${steps.join(', ')}); a plan node has exactly one`);
    return out;
  }
  const key = steps[0]!;
  const body = value[key];
  const here = `${at}.${key}`;
  const requireString = (obj: Record<string, unknown>, field: string) => {
    if (typeof obj[field] !== 'string' || obj[field] === '') err(`${here}.${field}`, 'required: a non-empty string');
  };
  const planList = (list: unknown, path: string) => {
    if (!Array.isArray(list)) return err(path, 'must be a list of plans');
    list.forEach((p, i) => checkPlan(p, `${path}[${i}]`, out));
  };
  if (key === 'do' || key === 'retry') {
    planList(body, here);
    return out;
  }
  if (!isObject(body)) {
    err(here, 'must be an object');
    return out;
  }
  switch (key) {
    case 'get':
    case 'put':
    case 'check':
      requireString(body, 'name');
      requireString(body, 'type');
      if (body.source === undefined) err(`${here}.source`, 'required');
      break;
    case 'task':
      requireString(body, 'name');
      if (body.config === undefined && body.config_path === undefined) err(here, 'needs config (inline) or config_path');
      if (body.config !== undefined && !isObject(body.config)) err(`${here}.config`, 'must be an object');
      break;
    case 'set_pipeline':
    case 'load_var':
      requireString(body, 'name');
      requireString(body, 'file');
      break;
    case 'artifact_input':
      requireString(body, 'name');
      if (typeof body.artifact_id !== 'number' || !Number.isSafeInteger(body.artifact_id) || body.artifact_id < 1) {
        err(`${here}.artifact_id`, 'required: a positive integer (the id POST /teams/:team/artifacts returned)');
      } else {
        out.artifactInputs.push({ at: `${here}.artifact_id`, id: body.artifact_id });
      }
      break;
    case 'artifact_output':
      requireString(body, 'name');
      break;
    case 'in_parallel':
      planList(body.steps, `${here}.steps`);
      break;
    case 'across':
      if (!Array.isArray(body.vars)) err(`${here}.vars`, 'must be a list');
      if (typeof body.substep_template !== 'string') err(`${here}.substep_template`, 'required: the sub-plan as JSON text');
      break;
    case 'try':
    case 'timeout':
      checkPlan(body.step, `${here}.step`, out);
      if (key === 'timeout' && typeof body.duration !== 'string') err(`${here}.duration`, 'required: a duration such as "10m"');
      break;
    default:
      if ((HOOKS as readonly string[]).includes(key)) {
        checkPlan(body.step, `${here}.step`, out);
        checkPlan(body[key], `${here}.${key}`, out);
      }
  }
  return out;
}

// ------------------------------------------------------------------------------ routes

/** Counts bytes through a stream; fails with 413 past the limit. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new ApiError('JW_BODY_TOO_LARGE', `the artifact is larger than the server's limit of ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

/** Reads the whole archive; a file that is not a (gzipped) tar is an error. */
async function assertTarball(path: string): Promise<void> {
  try {
    await tar.t({ file: path, strict: true, gzip: await isGzip(path) });
  } catch (err) {
    throw new ApiError('JW_INVALID_ARTIFACT', `the request body is not a tar archive (plain or gzipped): ${errorText(err)}`);
  }
}

export function registerArtifactRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;
  const limit = opts.artifactBodyLimit ?? DEFAULT_ARTIFACT_LIMIT;

  const teamOf = async (req: FastifyRequest<{ Params: { team: string } }>): Promise<TeamRecord> => {
    assertTeam(req, req.params.team);
    const team = await findTeam(db, req.params.team);
    if (!team) throw notFound('JW_TEAM_NOT_FOUND', `team ${req.params.team}`);
    return team;
  };
  const artifactsDir = (): string => {
    if (!opts.artifactsDir) throw unavailable('artifacts are not available: this API server runs without an artifacts directory');
    return opts.artifactsDir;
  };
  const uploadDir = (root: string, teamId: number): string => join(root, 'uploads', `team-${teamId}`);

  /** The artifact, if the team may read it: a build's artifact of the team, or the team's upload. */
  const teamArtifact = async (team: TeamRecord, id: number): Promise<ArtifactRecord | undefined> => {
    const a = await getArtifact(db, id);
    if (!a) return undefined;
    if (a.buildId !== null && a.buildTeamId === team.id) return a;
    if (a.location && opts.artifactsDir) {
      const rel = relative(uploadDir(opts.artifactsDir, team.id), a.location);
      if (!rel.startsWith('..') && !rel.startsWith(sep)) return a;
    }
    return undefined;
  };

  app.register(async (scope) => {
    // the body is streamed to disk by the route, not buffered by a parser
    scope.addContentTypeParser(ARTIFACT_CONTENT_TYPES, (_req, payload, done) => done(null, payload));
    scope.post<{ Params: { team: string } }>('/teams/:team/artifacts', async (req, reply) => {
      const team = await teamOf(req);
      const root = artifactsDir();
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!ARTIFACT_CONTENT_TYPES.includes(type)) {
        throw new ApiError('JW_UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type '${type}': send the tarball as application/octet-stream or application/gzip`);
      }
      const dir = uploadDir(root, team.id);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${randomUUID()}.tar`);
      try {
        await pipeline(req.body as NodeJS.ReadableStream, byteLimit(limit), createWriteStream(file, { mode: 0o600 }));
        if ((await stat(file)).size === 0) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected a tar archive');
        await assertTarball(file);
      } catch (err) {
        await rm(file, { force: true });
        throw err;
      }
      const a = await saveUploadedArtifact(db, file);
      req.log.info({ team: team.name, artifactId: a.id, by: currentUser(req).name }, 'artifact uploaded');
      return reply.code(201).send(artifactJson(a));
    });
  });

  app.get<{ Params: { team: string; id: string } }>('/teams/:team/artifacts/:id', async (req, reply) => {
    const team = await teamOf(req);
    artifactsDir();
    const id = idParam(req.params.id, 'artifact id');
    const a = await teamArtifact(team, id);
    if (!a) throw notFound('JW_ARTIFACT_NOT_FOUND', `artifact ${id} of team ${team.name}`);
    if (!a.location) throw notFound('JW_ARTIFACT_NOT_FOUND', `the content of artifact ${id}`);
    try {
      await stat(a.location);
    } catch {
      throw notFound('JW_ARTIFACT_NOT_FOUND', `the content of artifact ${id} (it was removed)`);
    }
    return reply.type('application/octet-stream').send(createReadStream(a.location));
  });

  app.get<{ Params: { id: string } }>('/builds/:id/artifacts', async (req): Promise<Artifact[]> => {
    const id = idParam(req.params.id, 'build id');
    const build = await getBuild(db, id);
    if (!build) throw notFound('JW_BUILD_NOT_FOUND', `build ${id}`);
    assertTeam(req, build.teamName);
    return (await listBuildArtifacts(db, id)).map(artifactJson);
  });

  // A one-off build: created started with the plan and handed to the engine.
  app.post<{ Params: { team: string } }>('/teams/:team/builds', async (req, reply) => {
    const team = await teamOf(req);
    if (req.body === undefined || req.body === null) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected a build plan');
    const checked = checkPlan(req.body);
    for (const input of checked.artifactInputs) {
      if (!(await teamArtifact(team, input.id))) checked.errors.push(`${input.at}: artifact ${input.id} not found in team ${team.name}`);
    }
    if (checked.errors.length > 0) throw new ApiError('JW_INVALID_PLAN', 'invalid plan', checked.errors);
    const engine = opts.engine;
    if (!engine?.track) throw unavailable('one-off builds are not available: this API server runs without an engine');
    const build = await createOneOffBuild(db, team.id, req.body as Plan, { createdBy: currentUser(req).name });
    req.log.info({ team: team.name, buildId: build.id, by: currentUser(req).name }, 'one-off build created');
    await engine.track(build.id);
    const json: Build = buildJson(build, opts.externalUrl);
    return reply.code(201).send(json);
  });
}
