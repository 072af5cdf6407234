// Resources, resource types and resource versions (newest first, paginated with Link headers);
// manual checks and webhooks; pinning, pin comments, enabling and disabling versions, and the
// builds a version went into or came out of; clearing version histories and resource caches.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { getBuild, type BuildRecord } from '../../db/builds.ts';
import { findResourceType, pinVersion, setPinComment, setVersionEnabled, unpinResource, type ResourceTypeRecord } from '../../db/resources.ts';
import { clearResourceCaches, clearScopeVersions, scopeSharers, type ScopeOwner } from '../../db/versions.ts';
import type { Version } from '../../model/version.ts';
import { UnauthorizedError } from '../../checker/checker.ts';
import { NotFoundError } from '../../db/errors.ts';
import {
  buildIdsWithVersion,
  findPipelineView,
  findResourceVersion,
  findResourceView,
  jobIdsUsingResource,
  listResourceTypeViews,
  listResourceViews,
  pageResourceVersions,
  type PipelineView,
  type ResourceView,
  type VersionRef,
} from '../../db/views.ts';
import { ApiError, badRequest, notFound, unavailable } from '../errors.ts';
import {
  currentUser,
  holdsRole,
  idParam,
  pageOf,
  parseWith,
  pipelineOf,
  pipelineRefOf,
  setLinkHeader,
  type ApiServerOptions,
  type PipelineParams,
} from '../context.ts';
import { buildJson, resourceJson, resourceTypeJson } from '../queries.ts';
import type { Build, ClearCacheResponse, ClearVersionsResponse, Resource, ResourcesAndTypes, ResourceType, ResourceVersion } from '../wire.ts';

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

const versionSchema = z.record(z.string(), z.string(), 'must be a version: an object of strings');
// fly sends the version in the body; `?version=<json>` is the same without a body
const cacheBody = z.object({ version: versionSchema.nullable().optional() }).strict();

/** The version a resource's cache is cleared of: `?version=<json>` or fly's body `{"version": …}`; none: every cache. */
function cacheVersion(query: unknown, body: unknown): Version | undefined {
  const raw = (query as Record<string, unknown> | undefined)?.version;
  const fromBody = body === undefined || body === null ? undefined : (parseWith(cacheBody, body, 'body').version ?? undefined);
  if (raw === undefined) return fromBody;
  if (fromBody !== undefined) throw badRequest('give the version once: in the query or in the body');
  if (typeof raw !== 'string') throw badRequest('query parameter version must be given once');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`query parameter version is not valid JSON: ${raw}`);
  }
  return parseWith(versionSchema, parsed, 'query parameter version');
}

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
    const r = await findResourceView(db, p.id, req.params.resource);
    if (!r) throw notFound('JW_RESOURCE_NOT_FOUND', `resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
    return { p, r };
  };

  const versionOf = async (req: FastifyRequest<{ Params: VersionParams }>): Promise<{ p: PipelineView; r: ResourceView; v: VersionRef }> => {
    const { p, r } = await resourceOf(req);
    const id = idParam(req.params.version, 'version id');
    const v = await findResourceVersion(db, r, id);
    if (!v) throw notFound('JW_VERSION_NOT_FOUND', `version ${id} of resource ${r.name} in pipeline ${p.team}/${p.name}`);
    return { p, r, v };
  };

  /** After a pin or an enabled/disabled version: the jobs using the resource reschedule. */
  const wakeJobsOf = async (resourceId: number): Promise<void> => {
    if (!opts.scheduler) return;
    for (const id of await jobIdsUsingResource(db, resourceId)) await opts.scheduler.requestSchedule(id);
  };

  const noChecker = (): ApiError => unavailable('checking is not available: this API server runs without a checker');

  const typeOf = async (req: FastifyRequest<{ Params: TypeParams }>): Promise<{ p: PipelineView; t: ResourceTypeRecord }> => {
    const p = await pipelineOf(db, req);
    const t = await findResourceType(db, p.id, req.params.type);
    if (!t) throw notFound('JW_RESOURCE_TYPE_NOT_FOUND', `resource type ${req.params.type} in pipeline ${p.team}/${p.name}`);
    return { p, t };
  };

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
    const { p } = await typeOf(req);
    const body = checkOptions(req.body);
    const c = opts.checker;
    if (!c?.checkResourceType) throw noChecker();
    const build = await c.checkResourceType(p.id, req.params.type, { from: body.from ?? null, shallow: body.shallow === true, createdBy: currentUser(req).name });
    return reply.code(201).send(json(build));
  });

  // Concourse's CheckPrototype (atc/api/resourceserver/check_prototype.go): 201 with the check build
  app.post<{ Params: { team: string; pipeline: string; prototype: string } }>('/teams/:team/pipelines/:pipeline/prototypes/:prototype/check', async (req, reply) => {
    const p = await pipelineOf(db, req);
    const body = checkOptions(req.body);
    const c = opts.checker;
    if (!c?.checkPrototype) throw noChecker();
    let build: BuildRecord;
    try {
      build = await c.checkPrototype(p.id, req.params.prototype, { from: body.from ?? null, shallow: body.shallow === true, createdBy: currentUser(req).name });
    } catch (err) {
      if (err instanceof NotFoundError) throw notFound('JW_PROTOTYPE_NOT_FOUND', `prototype ${req.params.prototype} in pipeline ${p.team}/${p.name}`);
      throw err;
    }
    req.log.info({ prototype: req.params.prototype, pipeline: p.name, buildId: build.id }, 'prototype check requested');
    return reply.code(201).send(json(build));
  });

  // Public: the webhook token is the credential (a team member's token is not needed).
  app.post<{ Params: ResourceParams; Querystring: { webhook_token?: string | string[] } }>(
    '/teams/:team/pipelines/:pipeline/resources/:resource/check/webhook',
    { config: { public: true } },
    async (req, reply) => {
      const token = req.query.webhook_token;
      if (typeof token !== 'string' || token === '') throw new ApiError('JW_INVALID_WEBHOOK_TOKEN', 'invalid webhook token: pass ?webhook_token=<token>');
      const c = opts.checker;
      if (!c?.checkWebhook) throw noChecker();
      // An unknown team, pipeline or resource and a wrong token get the same 404: the endpoint
      // needs no login, so it must not tell which names exist.
      const what = `resource ${req.params.resource} in pipeline ${req.params.team}/${req.params.pipeline}`;
      const refused = new ApiError('JW_RESOURCE_NOT_FOUND', `${what} not found, or the webhook token is not its own`);
      const p = await findPipelineView(db, pipelineRefOf(req));
      const r = p ? await findResourceView(db, p.id, req.params.resource) : undefined;
      if (!p || !r) throw refused;
      let build: BuildRecord;
      try {
        build = await c.checkWebhook(p.id, r.name, token);
      } catch (err) {
        if (err instanceof UnauthorizedError || err instanceof NotFoundError) {
          req.log.info({ resource: r.name, pipeline: p.name }, 'webhook refused: bad token');
          throw refused;
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
    if (r.pinnedVersion === null) throw new ApiError('JW_NOT_PINNED', `resource ${r.name} in pipeline ${p.team}/${p.name} is not pinned: pin a version first`);
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
    app.get<{ Params: VersionParams }>(`/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/${path}`, { config: { publicPipeline: true } }, async (req): Promise<Build[]> => {
      const { r, v } = await versionOf(req);
      const ids = await buildIdsWithVersion(db, r.id, v, kind);
      const builds = await Promise.all(ids.map((id) => getBuild(db, id)));
      return builds.filter((b): b is BuildRecord => b !== undefined).map(json);
    });
  }

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resources', { config: { publicPipeline: true } }, async (req): Promise<Resource[]> => {
    const p = await pipelineOf(db, req);
    return (await listResourceViews(db, p.id)).map((r) => resourceJson(r, p));
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource', { config: { publicPipeline: true } }, async (req): Promise<Resource> => {
    const { p, r } = await resourceOf(req);
    return resourceJson(r, p);
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resource-types', { config: { publicPipeline: true } }, async (req): Promise<ResourceType[]> => {
    const p = await pipelineOf(db, req);
    return (await listResourceTypeViews(db, p.id)).map(resourceTypeJson);
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions', { config: { publicPipeline: true } }, async (req, reply): Promise<ResourceVersion[]> => {
    const { p, r } = await resourceOf(req);
    const page = pageOf(req.query);
    const result = await pageResourceVersions(db, r, page, versionFilter(req.query));
    setLinkHeader(req, reply, page, result, opts.externalUrl);
    // metadata may say more than versions: outside the team, only a resource with `public: true` shows it (Concourse's rule)
    const showMetadata = holdsRole(req, p.team) || r.config.public === true;
    return result.rows.map((v) => ({ id: v.id, version: v.version, metadata: showMetadata ? v.metadata : null, enabled: v.enabled }));
  });

  // ---------------------------------------------------------------- clearing

  // What else loses its history with the resource's (or type's): Concourse's "shared" routes,
  // which fly's clear-versions shows before asking. Those of teams the user holds no role in are
  // only counted.
  const sharedJson = async (req: FastifyRequest, owner: ScopeOwner): Promise<ResourcesAndTypes> => {
    const teams = currentUser(req).teams;
    const all = await scopeSharers(db, owner);
    const visible = all.filter((x) => teams.includes(x.teamName));
    const ident = (x: (typeof all)[number]) => ({
      name: x.name,
      pipeline_id: x.pipelineId,
      pipeline_name: x.pipelineName,
      pipeline_instance_vars: x.pipelineInstanceVars ?? undefined,
      team_name: x.teamName,
    });
    return {
      resources: visible.filter((x) => x.kind === 'resource').map(ident),
      resource_types: visible.filter((x) => x.kind === 'resource_type').map(ident),
      other_teams: all.length - visible.length,
    };
  };

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/shared', async (req): Promise<ResourcesAndTypes> => {
    const { r } = await resourceOf(req);
    return sharedJson(req, { resourceId: r.id });
  });

  app.get<{ Params: TypeParams }>('/teams/:team/pipelines/:pipeline/resource-types/:type/shared', async (req): Promise<ResourcesAndTypes> => {
    const { t } = await typeOf(req);
    return sharedJson(req, { resourceTypeId: t.id });
  });

  /** After versions went: the jobs whose inputs may be gone resolve them again. */
  const wakeJobs = async (jobIds: readonly number[]): Promise<void> => {
    if (!opts.scheduler) return;
    for (const id of jobIds) await opts.scheduler.requestSchedule(id);
  };

  app.delete<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions', async (req): Promise<ClearVersionsResponse> => {
    const { p, r } = await resourceOf(req);
    const cleared = await clearScopeVersions(db, { resourceId: r.id });
    req.log.info({ resource: r.name, pipeline: p.name, removed: cleared.removed }, 'resource versions cleared');
    await wakeJobs(cleared.scheduledJobIds);
    return { versions_removed: cleared.removed };
  });

  app.delete<{ Params: TypeParams }>('/teams/:team/pipelines/:pipeline/resource-types/:type/versions', async (req): Promise<ClearVersionsResponse> => {
    const { p, t } = await typeOf(req);
    const cleared = await clearScopeVersions(db, { resourceTypeId: t.id });
    req.log.info({ resourceType: t.name, pipeline: p.name, removed: cleared.removed }, 'resource type versions cleared');
    await wakeJobs(cleared.scheduledJobIds);
    return { versions_removed: cleared.removed };
  });

  // Jetway's gets keep no cache content (each runs the type's `in` into a volume of its build):
  // the resource caches are the whole of a resource's cache.
  app.delete<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/cache', async (req): Promise<ClearCacheResponse> => {
    const { p, r } = await resourceOf(req);
    const version = cacheVersion(req.query, req.body);
    const removed = await clearResourceCaches(db, r.id, version);
    req.log.info({ resource: r.name, pipeline: p.name, version, removed }, 'resource caches cleared');
    return { caches_removed: removed };
  });
}

function pinnedInConfig(r: ResourceView, p: PipelineView): ApiError {
  return new ApiError(
    'JW_PINNED_IN_CONFIG',
    `resource ${r.name} in pipeline ${p.team}/${p.name} is pinned in the pipeline config (version ${JSON.stringify(r.pinnedVersion)}); ` +
      'change the pipeline config to change or remove that pin',
  );
}
