// Resources, resource types and resource versions (newest first, paginated with Link headers).
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../errors.ts';
import { pageOf, pipelineOf, setLinkHeader, type ApiServerOptions, type PipelineParams } from '../context.ts';
import { findResource, listResources, listResourceTypes, pageResourceVersions, resourceJson } from '../queries.ts';

type ResourceParams = PipelineParams & { resource: string };

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

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resources', async (req) => {
    const p = await pipelineOf(db, req);
    return (await listResources(db, p.id)).map((r) => resourceJson(r, p));
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource', async (req) => {
    const p = await pipelineOf(db, req);
    const r = await findResource(db, p.id, req.params.resource);
    if (!r) throw notFound(`resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
    return resourceJson(r, p);
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/resource-types', async (req) => {
    const p = await pipelineOf(db, req);
    return listResourceTypes(db, p.id);
  });

  app.get<{ Params: ResourceParams }>('/teams/:team/pipelines/:pipeline/resources/:resource/versions', async (req, reply) => {
    const p = await pipelineOf(db, req);
    const r = await findResource(db, p.id, req.params.resource);
    if (!r) throw notFound(`resource ${req.params.resource} in pipeline ${p.team}/${p.name}`);
    const page = pageOf(req.query);
    const result = await pageResourceVersions(db, r, page, versionFilter(req.query));
    setLinkHeader(req, reply, page, result);
    return result.rows.map((v) => ({ id: v.id, version: v.version, metadata: v.metadata, enabled: v.enabled }));
  });
}
