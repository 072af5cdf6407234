// Resources, resource types and resource versions (newest first, paginated with Link headers);
// manual checks and webhooks; pinning, pin comments, enabling and disabling versions, and the
// builds a version went into or came out of.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { getBuild, type BuildRecord } from '../../db/builds.ts';
import { pinVersion, setPinComment, setVersionEnabled, unpinResource } from '../../db/resources.ts';
import { ApiError, badRequest, conflict, notFound, unauthorized, unavailable } from '../errors.ts';
import {
  currentUser,
  idParam,
  pageOf,
  parseWith,
  pipelineOf,
  pipelineRefOf,
  setLinkHeader,
  type ApiServerOptions,
  type PipelineParams,
} from '../context.ts';
import {
  buildIdsWithVersion,
  buildJson,
  findResource,
  findResourceVersion,
  jobIdsUsingResource,
  listResources,
  listResourceTypes,
  mustFindPipeline,
  pageResourceVersions,
  resourceJson,
  type PipelineView,
  type ResourceView,
  type VersionRef,
} from '../queries.ts';

type ResourceParams = PipelineParams & { resource: string };
type TypeParams = PipelineParams & { type: string };
type VersionParams = ResourceParams & { version: string };

const checkBody = z
  .object({
    from: z.record(z.string(), z.string(), 'must be a version: an object of strings').nullable().optional(),
    shallow: z.boolean('must be a boolean').optional(),
  })
  .strict();

const pinCommentBody = z.object({ pin_comment: z.string('must be a string') }).strict();

/** The check request body: `{}` when there is none. */
function checkOptions(body: unknown): z.infer<typeof checkBody> {
  return parseWith(checkBody, body ?? {}, 'body');
}

/** `?filter=k:v` (repeatable) → {k: v}. */
function versionFilter(query: unknown): Record<string, string> {
  const raw = (query as Record<string, unknown> | undefined)?.filter;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const filter: Record<string, string> = {};
  for (const f of list) {
    const text = String(f);
    const i = text.indexOf(':');
    if (i <= 0) throw badRequest(`query parameter filter must be key:value (got '${text}')`);
    filter[text.slice(0, i)] = text.slice(i + 1);
  }
  return filter;
}

export function registerResourceRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;
  const json = (b: BuildRecord) => buildJson(b, opts.externalUrl);

  const resourceOf = async (req: FastifyRequest<{ Params: ResourceParams }>): Promise<{ p: PipelineView; r: ResourceView }> => {
    const p = await pipelineOf(db, req);
    const r = await findResource(db, p.id, req.params.resource);
    if (!r) throw notFound(`resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
    return { p, r };
  };

  const versionOf = async (req: FastifyRequest<{ Params: VersionParams }>): Promise<{ p: PipelineView; r: ResourceView; v: VersionRef }> => {
    const { p, r } = await resourceOf(req);
    const id = idParam(req.params.version, 'version id');
    const v = await findResourceVersion(db, r, id);
    if (!v) throw notFound(`version ${id} of resource ${r.name} in pipeline ${p.team}/${p.name}`);
    return { p, r, v };
  };

  /** After a pin or an enabled/disabled version: the jobs using the resource reschedule. */
  const wakeJobsOf = async (resourceId: number): Promise<void> => {
    if (!opts.scheduler) return;
    for (const id of await jobIdsUsingResource(db, resourceId)) await opts.scheduler.requestSchedule(id);
  };

  const noChecker = (): ApiError => unavailable('checking is not available: this API server runs without a checker');

  // ---------------------------------------------------------------- checks

  app.post<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/check', async (req, reply) => {
    const { p, r } = await resourceOf(req);
    const body = checkOptions(req.body);
    const c = opts.checker;
    if (!c?.checkResource) throw noChecker();
    const build = await c.checkResource(p.id, r.name, { from: body.from ?? null, shallow: body.shallow === true, createdBy: currentUser(req).name });
    req.log.info({ resource: r.name, pipeline: p.name, buildId: build.id }, 'resource check requested');
    return reply.code(201).send(json(build));
  });

  app.post<{ Params: TypeParams }>('/teams/:team/pipelines/:pipeline/resource-types/:type/check', async (req, reply) => {
    const p = await pipelineOf(db, req);
    const found = await db.query('SELECT 1 FROM resource_types WHERE pipeline_id = $1 AND name = $2 AND active', [p.id, req.params.type]);
    if (found.rowCount === 0) throw notFound(`resource type ${req.params.type} in pipeline ${p.team}/${p.name}`);
    const body = checkOptions(req.body);
    const c = opts.checker;
    if (!c?.checkResourceType) throw noChecker();
    const build = await c.checkResourceType(p.id, req.params.type, { from: body.from ?? null, shallow: body.shallow === true, createdBy: currentUser(req).name });
    return reply.code(201).send(json(build));
  });

  // Public: the webhook token is the credential (a team member's token is not needed).
  app.post<{ Params: ResourceParams; Querystring: { webhook_token?: string | string[] } }>(
    '/teams/:team/pipelines/:pipeline/resources/:resource/check/webhook',
    { config: { public: true } },
    async (req, reply) => {
      const token = req.query.webhook_token;
      if (typeof token !== 'string' || token === '') throw unauthorized('invalid webhook token: pass ?webhook_token=<token>');
      const c = opts.checker;
      if (!c?.checkWebhook) throw noChecker();
      const p = await mustFindPipeline(db, pipelineRefOf(req));
      const r = await findResource(db, p.id, req.params.resource);
      if (!r) throw notFound(`resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
      let build: BuildRecord;
      try {
        build = await c.checkWebhook(p.id, r.name, token);
      } catch (err) {
        if ((err as { statusCode?: unknown }).statusCode === 401) {
          req.log.info({ resource: r.name, pipeline: p.name }, 'webhook refused: bad token');
          throw unauthorized('invalid webhook token');
        }
        throw err;
      }
      req.log.info({ resource: r.name, pipeline: p.name, buildId: build.id }, 'webhook check');
      return reply.code(201).send(json(build));
    },
  );

  // ---------------------------------------------------------------- pins and versions

  app.put<{ Params: VersionParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/pin', async (req, reply) => {
    const { p, r, v } = await versionOf(req);
    if (r.pinnedInConfig) throw pinnedInConfig(r, p);
    await pinVersion(db, r.id, v.id, currentUser(req).name);
    req.log.info({ resource: r.name, pipeline: p.name, version: v.version }, 'resource pinned');
    await wakeJobsOf(r.id);
    return reply.code(200).send();
  });

  app.put<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/unpin', async (req, reply) => {
    const { p, r } = await resourceOf(req);
    if (r.pinnedInConfig) throw pinnedInConfig(r, p);
    await unpinResource(db, r.id);
    req.log.info({ resource: r.name, pipeline: p.name }, 'resource unpinned');
    await wakeJobsOf(r.id);
    return reply.code(200).send();
  });

  app.put<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/pin_comment', async (req, reply) => {
    const { p, r } = await resourceOf(req);
    const body = parseWith(pinCommentBody, req.body ?? {}, 'body');
    if (r.pinnedVersion === null) throw conflict(`resource ${r.name} in pipeline ${p.team}/${p.name} is not pinned: pin a version first`);
    await setPinComment(db, r.id, body.pin_comment);
    return reply.code(200).send();
  });

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.put<{ Params: VersionParams }>(`/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/${action}`, async (req, reply) => {
      const { p, r, v } = await versionOf(req);
      await setVersionEnabled(db, r.id, v.id, enabled);
      req.log.info({ resource: r.name, pipeline: p.name, version: v.version }, enabled ? 'version enabled' : 'version disabled');
      await wakeJobsOf(r.id);
      return reply.code(200).send();
    });
  }

  for (const [path, kind] of [
    ['input_to', 'inputs'],
    ['output_of', 'outputs'],
  ] as const) {
    app.get<{ Params: VersionParams }>(`/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/${path}`, async (req) => {
      const { r, v } = await versionOf(req);
      const ids = await buildIdsWithVersion(db, r.id, v, kind);
      const builds = await Promise.all(ids.map((id) => getBuild(db, id)));
      return builds.filter((b): b is BuildRecord => b !== undefined).map(json);
    });
  }

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resources', async (req) => {
    const p = await pipelineOf(db, req);
    return (await listResources(db, p.id)).map((r) => resourceJson(r, p));
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource', async (req) => {
    const { p, r } = await resourceOf(req);
    return resourceJson(r, p);
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resource-types', async (req) => {
    const p = await pipelineOf(db, req);
    return listResourceTypes(db, p.id);
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions', async (req, reply) => {
    const { r } = await resourceOf(req);
    const page = pageOf(req.query);
    const result = await pageResourceVersions(db, r, page, versionFilter(req.query));
    setLinkHeader(req, reply, page, result);
    return result.rows.map((v) => ({ id: v.id, version: v.version, metadata: v.metadata, enabled: v.enabled }));
  });
}

function pinnedInConfig(r: ResourceView, p: PipelineView): ApiError {
  return conflict(
    `resource ${r.name} in pipeline ${p.team}/${p.name} is pinned in the pipeline config (version ${JSON.stringify(r.pinnedVersion)}); ` +
      'change the pipeline config to change or remove that pin',
  );
}
