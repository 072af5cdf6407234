// Concourse routes that read across pipelines or show one version's story
// (docs/concourse-compatibility.md): every visible job (GET /jobs, atc/api/jobserver/list_all.go),
// every visible resource (GET /resources, resourceserver/list_all.go), one resource version and
// its causality (resourceserver/versionserver/get.go, causality.go), and a build's comment
// (buildserver/set_comment.go).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { getBuild, setBuildComment } from '../../db/builds.ts';
import { findResourceView, listResourceViewsOfPipelines, type PipelineView } from '../../db/views.ts';
import { resourceVersionById } from '../../db/versions.ts';
import { CausalityTooLargeError, resourceCausality, type Causality, type CausalityDirection } from '../../db/causality.ts';
import { ApiError, notFound } from '../errors.ts';
import { assertTeam, currentUser, holdsRole, idParam, parseWith, pipelineOf, type ApiServerOptions, type PipelineParams } from '../context.ts';
import { resourceJson, visiblePipelineViews } from '../queries.ts';
import { JobSummaries } from '../job-summaries.ts';
import type { JobSummary, Resource, ResourceVersion } from '../wire.ts';

type VersionParams = PipelineParams & { resource: string; version: string };

const commentBody = z.object({ comment: z.string('must be a string').max(10_000, 'must be at most 10000 characters') }).strict();

/** Public reads: anyone may read a public pipeline's (context.ts pipelineOf). */
const PUBLIC = { config: { publicPipeline: true } };

export function registerCompatRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;

  // archived pipelines are left out: their jobs and resources are inactive on Concourse
  const visible = (req: FastifyRequest): Promise<PipelineView[]> => visiblePipelineViews(db, req.user, false);

  // The dashboard's one request for every job (atc.JobSummary, as Concourse's): one statement for
  // the jobs whatever the number of pipelines, only the fields a summary has, and what comes from
  // the config kept per config version (job-summaries.ts).
  const summaries = new JobSummaries(db);
  app.get('/jobs', { config: { optionalAuth: true } }, async (req): Promise<JobSummary[]> => summaries.list(await visible(req)));

  app.get('/resources', { config: { optionalAuth: true } }, async (req): Promise<Resource[]> => {
    const pipelines = await visible(req);
    // one statement for every pipeline's resources
    const resources = await listResourceViewsOfPipelines(db, pipelines.map((p) => p.id));
    return pipelines.flatMap((p) => (resources.get(p.id) ?? []).map((r) => resourceJson(r, p)));
  });

  const versionOf = async (req: FastifyRequest<{ Params: VersionParams }>) => {
    const p = await pipelineOf(db, req);
    const r = await findResourceView(db, p.id, req.params.resource);
    if (!r) throw notFound('JW_RESOURCE_NOT_FOUND', `resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
    const id = idParam(req.params.version, 'version id');
    const v = await resourceVersionById(db, r, id);
    if (!v) throw notFound('JW_VERSION_NOT_FOUND', `version ${id} of resource ${r.name} in pipeline ${p.team}/${p.name}`);
    return { p, r, v };
  };

  app.get<{ Params: VersionParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version', PUBLIC, async (req): Promise<ResourceVersion> => {
    const { p, r, v } = await versionOf(req);
    // metadata outside the team only for a `public: true` resource, as in the versions list
    const showMetadata = holdsRole(req, p.team) || r.config.public === true;
    return { id: v.id, version: v.version, metadata: showMetadata ? v.metadata : null, enabled: v.enabled };
  });

  for (const direction of ['upstream', 'downstream'] as const satisfies readonly CausalityDirection[]) {
    app.get<{ Params: VersionParams }>(`/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/${direction}`, PUBLIC, async (req): Promise<Causality> => {
      const { r, v } = await versionOf(req);
      try {
        return await resourceCausality(db, r.id, v.digests, direction);
      } catch (err) {
        if (err instanceof CausalityTooLargeError) throw new ApiError('JW_CAUSALITY_TOO_LARGE', `${direction} causality of version ${v.id} of resource ${r.name}: ${err.message}`);
        throw err;
      }
    });
  }

  // A pipeline-operator may comment, as on Concourse (atc/api/accessor/roles.go SetBuildComment)
  app.put<{ Params: { id: string } }>('/builds/:id/comment', async (req, reply) => {
    const id = idParam(req.params.id, 'build id');
    const build = await getBuild(db, id);
    if (!build) {
      currentUser(req); // 401 before 404 without a login
      throw notFound('JW_BUILD_NOT_FOUND', `build ${id}`);
    }
    assertTeam(req, build.teamName, 'pipeline-operator');
    const body = parseWith(commentBody, req.body ?? {}, 'body');
    await setBuildComment(db, id, body.comment);
    req.log.info({ buildId: id }, 'build comment set');
    return reply.code(200).send();
  });
}
