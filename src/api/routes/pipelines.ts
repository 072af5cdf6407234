// Pipelines: list, config (get/set with X-Concourse-Config-Version), pause/unpause, expose/hide,
// archive, rename, ordering, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkIdentifier, type Diagnostic, type PipelineConfig } from '../../config/index.ts';
import { ConfigLoadAborted, pipelineLoader } from '../../config/off-thread.ts';
import { parseVarName } from '../../config/var-syntax.ts';
import type { CredentialManager, CredentialScope } from '../../creds/credential-manager.ts';
import {
  archivePipeline,
  deletePipeline,
  getPipelineConfig,
  orderPipelines,
  orderPipelinesWithinGroup,
  pausePipeline,
  renamePipeline,
  savePipeline,
  unpausePipeline,
} from '../../db/pipelines.ts';
import { setPipelinePublic } from '../../db/pipeline-visibility.ts';
import { activeJobIds, activeResourceIds, listPipelineViews } from '../../db/views.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { unsafeNameProblem } from '../names.ts';
import { jsonValueProblem } from '../plan-check.ts';
import {
  assertTeam,
  currentUser,
  holdsRole,
  parseWith,
  pipelineOf,
  pipelineRefOf,
  type ApiServerOptions,
  type PipelineParams,
} from '../context.ts';
import { describePipeline, pipelineJson, visiblePipelineViews } from '../queries.ts';
import { loadVersionsDb, VersionsDbTooLarge, type DebugVersionsDB } from '../../db/versions-db.ts';
import type { ConfigResponse, ConfigWarning, Pipeline, SaveConfigResponse } from '../wire.ts';

export const CONFIG_VERSION_HEADER = 'x-concourse-config-version';

/** The largest pipeline config `PUT …/config` takes by default: 1 MiB of YAML or JSON. */
export const DEFAULT_PIPELINE_CONFIG_LIMIT = 1024 * 1024;

/** `line L, column C: path: message`: a diagnostic located in the request body. */
export function describeDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `line ${d.line}, column ${d.column ?? 1}: ` : '';
  return `${where}${d.path ? `${d.path}: ` : ''}${d.message}`;
}

const YAML_TYPES = ['application/x-yaml', 'application/yaml', 'text/yaml', 'text/x-yaml', 'application/json', 'text/plain'];

const renameBody = z.object({ name: z.string().min(1, 'must not be empty') });
/** Concourse's ordering body: the pipeline names, first first. */
const orderingBody = z.array(z.string().min(1, 'must not be empty'));
/** Concourse's OrderPipelinesWithinGroup body: the instances' instance vars, first first (at most 1,000). */
const groupOrderingBody = z.array(z.record(z.string(), z.unknown()).nullable()).max(1000, 'at most 1000 instances');

/**
 * Names of a config that become paths and URLs (jobs, resources, resource types, groups) with
 * `/`, `..` or control characters, and NUL characters anywhere (Postgres's jsonb refuses them):
 * Concourse only warns of bad identifiers, but these would climb out of a directory or split a
 * URL. `path: problem` each.
 */
export function unsafeConfigNames(config: PipelineConfig): string[] {
  const out: string[] = [];
  const lists = { jobs: config.jobs, resources: config.resources, resource_types: config.resource_types, groups: config.groups } as const;
  for (const [key, list] of Object.entries(lists)) {
    (list ?? []).forEach((item: { name?: string }, i: number) => {
      const problem = typeof item.name === 'string' ? unsafeNameProblem(item.name) : undefined;
      if (problem) out.push(`${key}[${i}].name: ${JSON.stringify(item.name)} ${problem}`);
    });
  }
  const nested = jsonValueProblem(config, 'config');
  if (nested) out.push(nested);
  return out;
}

/** `?include_archived=true`: archived pipelines are left out of listings otherwise, as fly and the dashboard do. */
const includeArchived = (query: unknown): boolean =>
  typeof query === 'object' && query !== null && (query as Record<string, unknown>).include_archived === 'true';

/**
 * The vars a config still contains that nothing resolves: `((src:x))` needs a var source `src`;
 * `((x))` needs the credential manager to have it (Concourse's check_creds asks it, for the
 * pipeline's team and name). A manager that refuses or fails is reported as such; a value found
 * is never returned.
 */
async function credentialProblems(config: PipelineConfig, unresolved: string[], scope: CredentialScope, credentials: CredentialManager | undefined): Promise<string[]> {
  const sources = new Set((config.var_sources ?? []).map((s) => s.name).filter((n): n is string => typeof n === 'string'));
  const lookup = credentials?.forBuild(scope);
  const problems: string[] = [];
  for (const v of unresolved) {
    const name = parseVarName(v);
    if (name.source !== undefined && (sources.has(name.source) || name.source === '.')) continue;
    if (name.source === undefined && lookup) {
      try {
        if ((await lookup.lookup(name)) !== undefined) continue;
        problems.push(`credential '${v}' cannot be resolved: the ${credentials!.name} credential manager does not have it and no var source provides it`);
      } catch (err) {
        problems.push(`credential '${v}' cannot be resolved: ${err instanceof Error ? err.message : String(err)}`);
      }
      continue;
    }
    problems.push(
      name.source === undefined || !credentials
        ? `credential '${v}' cannot be resolved: no credential manager is configured and no var source provides it`
        : `credential '${v}' cannot be resolved: the pipeline has no var source '${name.source}'`,
    );
  }
  return problems;
}

export function registerPipelineRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;

  const wakeJobs = async (pipelineId: number): Promise<void> => {
    if (!opts.scheduler) return;
    for (const id of await activeJobIds(db, pipelineId)) await opts.scheduler.requestSchedule(id);
  };
  const wakeResources = async (pipelineId: number): Promise<void> => {
    if (!opts.checker?.requestCheck) return;
    for (const id of await activeResourceIds(db, pipelineId)) await opts.checker.requestCheck(id);
  };

  // The pipelines of the user's teams and the public ones of other teams; without a login the
  // public ones only (Concourse's ListAllPipelines).
  app.get('/pipelines', { config: { optionalAuth: true } }, async (req): Promise<Pipeline[]> => {
    return (await visiblePipelineViews(db, req.user, includeArchived(req.query))).map(pipelineJson);
  });

  // A team's pipelines: all of them for its members, its public ones for anybody else.
  app.get<{ Params: { team: string } }>('/teams/:team/pipelines', { config: { optionalAuth: true } }, async (req): Promise<Pipeline[]> => {
    if (holdsRole(req, req.params.team)) {
      assertTeam(req, req.params.team);
      return (await listPipelineViews(db, [req.params.team], includeArchived(req.query))).map(pipelineJson);
    }
    return (await listPipelineViews(db, [req.params.team], false)).filter((p) => p.public).map(pipelineJson);
  });

  app.put<{ Params: { team: string } }>('/teams/:team/pipelines/ordering', async (req, reply) => {
    assertTeam(req, req.params.team);
    const names = parseWith(orderingBody, req.body, 'body');
    const { unknown } = await orderPipelines(db, req.params.team, names);
    if (unknown.length > 0) {
      const what = unknown.length === 1 ? 'pipeline' : 'pipelines';
      throw new ApiError('JW_INVALID_PIPELINE_ORDER', `${what} not found in team ${req.params.team}: ${unknown.map((n) => `'${n}'`).join(', ')} (the order was not changed)`);
    }
    return reply.code(200).send();
  });

  // atc/api/pipelineserver/order_within_group.go: the group's instances in the order given
  app.put<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/ordering', async (req, reply) => {
    assertTeam(req, req.params.team);
    const list = parseWith(groupOrderingBody, req.body, 'body').map((v) => v ?? {});
    const { unknown } = await orderPipelinesWithinGroup(db, req.params.team, req.params.pipeline, list);
    if (unknown) {
      const ref = { team: req.params.team, name: req.params.pipeline, ...(Object.keys(unknown).length > 0 ? { instanceVars: unknown } : {}) };
      throw new ApiError('JW_INVALID_PIPELINE_ORDER', `${describePipeline(ref)} not found (the order was not changed)`);
    }
    return reply.code(200).send();
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline', { config: { publicPipeline: true } }, async (req): Promise<Pipeline> =>
    pipelineJson(await pipelineOf(db, req)),
  );

  // atc/api/pipelineserver/get_versions_db.go: input resolution's data, for debugging it (viewer)
  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/versions-db', async (req): Promise<DebugVersionsDB> => {
    assertTeam(req, req.params.team);
    const p = await pipelineOf(db, req);
    try {
      return await loadVersionsDb(db, p.id);
    } catch (err) {
      if (err instanceof VersionsDbTooLarge) throw new ApiError('JW_VERSIONS_DB_TOO_LARGE', `${describePipeline(pipelineRefOf(req))}: ${err.message}`);
      throw err;
    }
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/config', async (req, reply): Promise<ConfigResponse<PipelineConfig>> => {
    assertTeam(req, req.params.team);
    const ref = pipelineRefOf(req);
    const stored = await getPipelineConfig(db, ref);
    // an archived pipeline's config is not served, as Concourse's (atc/api/configserver/get.go)
    if (!stored || stored.archived) throw notFound('JW_PIPELINE_NOT_FOUND', describePipeline(ref));
    void reply.header('X-Concourse-Config-Version', String(stored.version));
    return { config: stored.config };
  });

  // PUT …/config takes the raw text (YAML, or JSON which is YAML too), so diagnostics carry
  // line and column; an encapsulated scope gives this route its own body parsers.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.put<{ Params: PipelineParams; Querystring: Record<string, string | undefined> }>(
      '/teams/:team/pipelines/:pipeline/config',
      // parsing and validating run in a worker thread (src/config/off-thread.ts), never on the
      // event loop; the limit bounds their time and memory (docs/security.md)
      { bodyLimit: opts.pipelineConfigLimit ?? DEFAULT_PIPELINE_CONFIG_LIMIT },
      async (req, reply): Promise<SaveConfigResponse> => {
        assertTeam(req, req.params.team);
        const ref = pipelineRefOf(req);
        const header = req.headers[CONFIG_VERSION_HEADER];
        let expectedVersion = 0;
        // absent or empty is 0, a new pipeline: fly sends the version GetConfig gave it, '' for none
        // (atc/api/configserver/save.go reads only a non-empty header)
        if (header !== undefined && (Array.isArray(header) ? header[0] ?? '' : header).trim() !== '') {
          const text = Array.isArray(header) ? header[0] ?? '' : header;
          if (!/^\d+$/.test(text.trim())) throw badRequest(`X-Concourse-Config-Version header is malformed: '${text}' is not a number`);
          expectedVersion = Number(text.trim());
        }
        const text = typeof req.body === 'string' ? req.body : '';
        if (text.trim() === '') throw new ApiError('JW_EMPTY_BODY', 'empty config', ['the request body is empty; expected a pipeline config (YAML or JSON)']);

        const loaded = await (opts.pipelineLoader ?? pipelineLoader).load(text, opts.baseResourceTypes ? { baseResourceTypes: opts.baseResourceTypes } : {}).catch((err: unknown) => {
          if (err instanceof ConfigLoadAborted) throw new ApiError('JW_INVALID_CONFIG', 'invalid pipeline config', [err.message]);
          throw err;
        });
        const nameProblem = checkIdentifier(ref.name);
        const warnings: ConfigWarning[] = loaded.warnings.map((w) => ({ type: w.type ?? 'pipeline', message: describeDiagnostic(w) }));
        if (nameProblem?.severity === 'warning') warnings.unshift({ type: 'invalid_identifier', message: `pipeline: ${nameProblem.message}` });
        if (loaded.errors.length > 0 || !loaded.config) {
          throw new ApiError('JW_INVALID_CONFIG', 'invalid pipeline config', loaded.errors.map(describeDiagnostic), { warnings });
        }
        const unsafe = unsafeConfigNames(loaded.config);
        if (unsafe.length > 0) throw new ApiError('JW_INVALID_CONFIG', 'invalid pipeline config', unsafe, { warnings });
        const checkCreds = req.query.check_creds;
        if (checkCreds !== undefined && checkCreds !== 'false') {
          const problems = await credentialProblems(loaded.config, loaded.unresolvedVars, { team: ref.team, pipeline: ref.name }, opts.credentials);
          if (problems.length > 0) throw new ApiError('JW_UNRESOLVED_CREDENTIALS', 'credentials', problems, { warnings });
        }
        const saved = await savePipeline(db, { ...ref, config: loaded.config, expectedVersion });
        req.log.info({ pipeline: describePipeline(ref), version: saved.version, created: saved.created }, 'pipeline config saved');
        await wakeJobs(saved.pipelineId);
        await wakeResources(saved.pipelineId);
        void reply.code(saved.created ? 201 : 200).header('X-Concourse-Config-Version', String(saved.version));
        return { warnings };
      },
    );
  });

  type PReq = FastifyRequest<{ Params: PipelineParams }>;
  const action = (path: string, fn: (req: PReq, pipelineId: number) => Promise<void>): void => {
    app.put<{ Params: PipelineParams }>(`/teams/:team/pipelines/:pipeline/${path}`, async (req, reply) => {
      const p = await pipelineOf(db, req);
      await fn(req, p.id);
      return reply.code(200).send();
    });
  };
  action('pause', (req) => pausePipeline(db, pipelineRefOf(req), currentUser(req).name));
  action('unpause', async (req, id) => {
    await unpausePipeline(db, pipelineRefOf(req));
    await wakeJobs(id);
  });
  action('archive', async (req, id) => {
    await archivePipeline(db, pipelineRefOf(req), currentUser(req).name);
    // the scheduler aborts the pipeline's pending builds
    await wakeJobs(id);
  });
  action('expose', (_req, id) => setPipelinePublic(db, id, true));
  action('hide', (_req, id) => setPipelinePublic(db, id, false));

  app.put<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/rename', async (req): Promise<SaveConfigResponse> => {
    await pipelineOf(db, req);
    const body = parseWith(renameBody, req.body ?? {}, 'body');
    const unsafe = unsafeNameProblem(body.name);
    if (unsafe) throw new ApiError('JW_INVALID_REQUEST', 'invalid body', [`body.name: ${JSON.stringify(body.name)} ${unsafe}`]);
    const problem = checkIdentifier(body.name);
    await renamePipeline(db, pipelineRefOf(req), body.name);
    return { warnings: problem ? [{ type: 'invalid_identifier', message: `pipeline: ${problem.message}` }] : [] };
  });

  app.delete<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline', async (req, reply) => {
    await pipelineOf(db, req);
    await deletePipeline(db, pipelineRefOf(req));
    req.log.info({ pipeline: describePipeline(pipelineRefOf(req)) }, 'pipeline deleted');
    return reply.code(204).send();
  });
}
