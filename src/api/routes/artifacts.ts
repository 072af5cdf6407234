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
import { isAbsolute, join, relative, sep } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as tar from 'tar';
import { getArtifact, listBuildArtifacts, saveUploadedArtifact, type ArtifactRecord } from '../../db/artifacts.ts';
import { createOneOffBuild, getBuild } from '../../db/builds.ts';
import { getPipelineConfig } from '../../db/pipelines.ts';
import { completePipelineGets } from '../../planner/planner.ts';
import type { Plan } from '../../model/plan.ts';
import { checkPlan } from '../plan-check.ts';
import { ApiError, notFound, unavailable } from '../errors.ts';
import { assertTeam, currentUser, idParam, pipelineRefOf, type ApiServerOptions, type PipelineParams } from '../context.ts';
import { findTeam, type TeamRecord } from '../../db/teams.ts';
import { buildJson, describePipeline, unix } from '../queries.ts';
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

// Plan validation lives in ../plan-check.ts (every plan from a client, templates included).
export { checkPlan, STEP_KEYS, type PlanCheck } from '../plan-check.ts';

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

/** Whether the (decompressed) archive ends with tar's end-of-archive marker: two zero blocks. */
async function hasEndOfArchive(path: string, gzip: boolean): Promise<boolean> {
  let tail = Buffer.alloc(0);
  const keepTail = new Writable({
    write(chunk: Buffer, _enc, done) {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > 1024) tail = tail.subarray(tail.length - 1024);
      done();
    },
  });
  if (gzip) await pipeline(createReadStream(path), createGunzip(), keepTail);
  else await pipeline(createReadStream(path), keepTail);
  return tail.length === 1024 && tail.every((b) => b === 0);
}

/**
 * Reads the whole archive; a file that is not a (gzipped) tar is an error, and so is one cut
 * short (a truncated upload: a cut inside an entry or the gzip stream fails to read, one
 * between entries lacks the end-of-archive marker every tar writer adds).
 */
async function assertTarball(path: string): Promise<void> {
  const gzip = await isGzip(path);
  try {
    await tar.t({ file: path, strict: true, gzip });
  } catch (err) {
    throw new ApiError('JW_INVALID_ARTIFACT', `the request body is not a tar archive (plain or gzipped): ${errorText(err)}`);
  }
  if (!(await hasEndOfArchive(path, gzip))) {
    throw new ApiError('JW_INVALID_ARTIFACT', 'the request body is not a complete tar archive: it ends without the end-of-archive marker (was the upload cut short?)');
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

  /**
   * The artifact, if the team may read it: the team's upload (by where it was stored, whichever
   * build later claimed it), or an output a build of the team saved. An upload is never judged
   * by the build that claimed it: a plan of another team that named it must not make it that
   * team's.
   */
  const teamArtifact = async (team: TeamRecord, id: number): Promise<ArtifactRecord | undefined> => {
    const a = await getArtifact(db, id);
    if (!a) return undefined;
    if (a.name === '') {
      if (!a.location || !opts.artifactsDir) return undefined;
      const rel = relative(uploadDir(opts.artifactsDir, team.id), a.location);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.includes(sep) ? a : undefined;
    }
    return a.buildId !== null && a.buildTeamId === team.id ? a : undefined;
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

  /**
   * A one-off build (of the team, or of a pipeline of it): the plan checked, its uploads the
   * team's own, created started and handed to the engine.
   */
  const startOneOff = async (req: FastifyRequest, reply: FastifyReply, team: TeamRecord, plan: unknown, pipeline?: { id: number; name: string }) => {
    const checked = checkPlan(plan);
    for (const input of checked.artifactInputs) {
      if (!(await teamArtifact(team, input.id))) checked.errors.push(`${input.at}: artifact ${input.id} not found in team ${team.name}`);
    }
    if (checked.errors.length > 0) throw new ApiError('JW_INVALID_PLAN', 'invalid plan', checked.errors);
    const engine = opts.engine;
    if (!engine?.track) throw unavailable('one-off builds are not available: this API server runs without an engine');
    const by = currentUser(req).name;
    const build = await createOneOffBuild(db, team.id, plan as Plan, { createdBy: by, ...(pipeline ? { pipelineId: pipeline.id } : {}) });
    req.log.info({ team: team.name, ...(pipeline ? { pipeline: pipeline.name } : {}), buildId: build.id, by }, pipeline ? 'pipeline one-off build created' : 'one-off build created');
    await engine.track(build.id);
    const json: Build = buildJson(build, opts.externalUrl);
    return reply.code(201).send(json);
  };

  // A one-off build: created started with the plan and handed to the engine.
  app.post<{ Params: { team: string } }>('/teams/:team/builds', async (req, reply) => {
    const team = await teamOf(req);
    if (req.body === undefined || req.body === null) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected a build plan');
    return startOneOff(req, reply, team, req.body);
  });

  // CreatePipelineBuild (atc/api/pipelineserver/build.go): a one-off build in a pipeline's
  // context: its var sources resolve the plan's ((vars)), and a get naming only one of its
  // resources (`{get: {name, resource, version}}`, what `jetway execute -j` sends) is planned as
  // the pipeline's jobs plan it. Its team's members; not an archived pipeline.
  app.post<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/builds', async (req, reply) => {
    const team = await teamOf(req);
    const ref = pipelineRefOf(req);
    const stored = await getPipelineConfig(db, ref);
    if (!stored) throw notFound('JW_PIPELINE_NOT_FOUND', describePipeline(ref));
    if (stored.archived) throw new ApiError('JW_CONFLICT', `${describePipeline(ref)} is archived`);
    if (req.body === undefined || req.body === null) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected a build plan');
    const completed = completePipelineGets(req.body, stored.config.resources ?? [], stored.config.resource_types ?? []);
    if (completed.errors.length > 0) throw new ApiError('JW_INVALID_PLAN', 'invalid plan', completed.errors);
    return startOneOff(req, reply, team, completed.plan, { id: stored.pipelineId, name: ref.name });
  });
}
