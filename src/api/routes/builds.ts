// Jobs and builds: list/get jobs, job builds (paginated), trigger, rerun, pause/unpause a job,
// clear a task step's caches; list/get builds, a build's public plan, abort, and the event stream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  abortBuild,
  buildsStartedBetween,
  createManualBuild,
  createRerun,
  findJobBuild,
  getBuild,
  getBuilds,
  getBuildSummaries,
  getBuildPlans,
  listBuilds,
  listJobBuildsByName,
  type BuildPage,
  type BuildRecord,
  type BuildSummary,
} from '../../db/builds.ts';
import { findJob, jobInputConfigs, listJobs, nextBuildInputs, pauseJob, requestJobSchedule, unpauseJob, type JobRecord } from '../../db/jobs.ts';
import { buildInputs, buildOutputs } from '../../db/builds.ts';
import { getInMemoryCheckBuild } from '../../db/in-memory-checks.ts';
import { buildPreparation, jobPendingReason, pendingReasonsOfBuilds, type ReasonReader } from '../../scheduler/preparation.ts';
import { listTeamRecords } from '../../db/teams.ts';
import { listResourceViews, versionByDigest, type PipelineView } from '../../db/views.ts';
import { JobConfigViews, type JobConfigRows } from '../config-views.ts';
import { badRequest, notFound, unavailable } from '../errors.ts';
import { jobInputs, jobStep, walkSteps } from '../../config/index.ts';
import { taskCacheKey } from '../../runtime/task-caches.ts';
import {
  assertBuildReadable,
  assertTeam,
  currentUser,
  holdsRole,
  idParam,
  pageOf,
  pipelineOf,
  setLinkHeader,
  type ApiServerOptions,
  type PipelineParams,
} from '../context.ts';
import { buildJson, buildSummaryJson, jobJson, type JobBuilds } from '../queries.ts';
import type { Build, BuildInputsOutputs, BuildPreparation, ClearCacheResponse, Job, NextBuildInput, PublicBuildPlan } from '../wire.ts';
import { streamBuildEvents, type BuildEventNotifier } from '../events.ts';

type JobParams = PipelineParams & { job: string };
type JobBuildParams = JobParams & { build: string };
type TaskStepParams = JobParams & { step: string };
type JobViews = Parameters<typeof jobJson>[5];

/** Reads anyone may make of a public pipeline (context.ts pipelineOf, assertBuildReadable). */
const PUBLIC = { config: { publicPipeline: true } };

/** Whether the job's plan (hooks included) has a task step of that name. */
function hasTaskStep(job: JobRecord, name: string): boolean {
  let found = false;
  // an invalid step was refused when the pipeline was set: nothing to report here
  walkSteps(jobStep(job.config, () => undefined), (step) => {
    if (step.kind === 'task' && step.name === name) found = true;
  });
  return found;
}

/** `?timestamps=` (any value but empty, as Concourse reads it): from/to are unix times. */
function timestampsRequested(query: unknown): boolean {
  const t = (query as Record<string, unknown> | undefined)?.timestamps;
  return typeof t === 'string' ? t !== '' : Array.isArray(t);
}

export function registerBuildRoutes(app: FastifyInstance, opts: ApiServerOptions, notifier: BuildEventNotifier): void {
  const { db } = opts;
  const json = (b: BuildRecord) => buildJson(b, opts.externalUrl);
  /** The builds' JSON, a pending job build's with why it does not start (src/scheduler/pending-reasons.ts). */
  const jsonWithReasons = async (req: FastifyRequest, builds: readonly BuildRecord[]): Promise<Build[]> => {
    const reasons = await pendingReasonsOfBuilds(db, builds, (b) => readerIn(req, b.teamName));
    return builds.map((b) => {
      const reason = reasons.get(b.id);
      return reason === undefined ? json(b) : { ...json(b), pending_reason: reason };
    });
  };
  const jsonWithReason = async (req: FastifyRequest, b: BuildRecord): Promise<Build> => (await jsonWithReasons(req, [b]))[0]!;
  /** A reader outside the team (a public pipeline's) is not shown check errors, as Concourse keeps them to the team. */
  const readerIn = (req: FastifyRequest, team: string): ReasonReader => ({ showCheckErrors: holdsRole(req, team) });

  const jobOf = async (req: FastifyRequest<{ Params: JobParams }>): Promise<{ p: PipelineView; job: JobRecord }> => {
    const p = await pipelineOf(db, req);
    const job = await findJob(db, p.id, req.params.job);
    if (!job) throw notFound('JW_JOB_NOT_FOUND', `job ${req.params.job} in pipeline ${p.team}/${p.name}`);
    return { p, job };
  };

  /** A build its requester may read; publicJob: its job must be public too (its plan, events, preparation) for someone outside its team. */
  const buildOf = async (req: FastifyRequest<{ Params: { id: string } }>, publicJob = true, inMemory = false): Promise<BuildRecord> => {
    const id = idParam(req.params.id, 'build id');
    // an in-memory check (no build row) reads as a check build: its status, times, no events
    const build = (await getBuild(db, id)) ?? (inMemory ? await getInMemoryCheckBuild(db, id) : undefined);
    if (!build) {
      currentUser(req); // without a login, a build that does not exist answers as one that is not public
      throw notFound('JW_BUILD_NOT_FOUND', `build ${id}`);
    }
    await assertBuildReadable(db, req, build, publicJob);
    return build;
  };

  const sendPage = async (req: FastifyRequest, reply: FastifyReply, limit: number, page: BuildPage): Promise<Build[]> => {
    setLinkHeader(req, reply, { limit }, { rows: page.builds, newer: page.previous?.from, older: page.next?.to }, opts.externalUrl);
    return summariesWithReasons(req, page.builds);
  };
  /** A page's JSON: its pending job builds (few) are read whole for their reasons. */
  const summariesWithReasons = async (req: FastifyRequest, builds: readonly BuildSummary[]): Promise<Build[]> => {
    const pending = builds.filter((b) => b.status === 'pending' && b.jobId !== null).map((b) => b.id);
    const whole = pending.length === 0 ? [] : [...(await getBuilds(db, pending)).values()];
    const reasons = await pendingReasonsOfBuilds(db, whole, (b) => readerIn(req, b.teamName));
    return builds.map((b) => {
      const out = buildSummaryJson(b, opts.externalUrl);
      const reason = reasons.get(b.id);
      return reason === undefined ? out : { ...out, pending_reason: reason };
    });
  };

  /** A job's JSON with why it will not run now, if something holds it. */
  const jobJsonWithReason = async (req: FastifyRequest, job: JobRecord, builds: JobBuilds, p: PipelineView, views?: JobViews): Promise<Job> => {
    const [out, reason] = await Promise.all([
      jobJson(db, job, builds, p, opts.externalUrl, views),
      jobPendingReason(db, job, builds.nextBuild, readerIn(req, p.team)),
    ]);
    return reason === undefined ? out : { ...out, pending_reason: reason };
  };

  const wake = async (jobId: number): Promise<void> => {
    if (opts.scheduler) await opts.scheduler.requestSchedule(jobId);
  };

  // ---------------------------------------------------------------- jobs

  // the jobs' inputs and outputs kept per pipeline config version (config-views.ts): the UI's
  // pipeline page and fly poll this route
  const configRows = new JobConfigViews<JobConfigRows>(db, (_p, _job, rows) => rows);
  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/jobs', PUBLIC, async (req): Promise<Job[]> => {
    const p = await pipelineOf(db, req);
    const jobs = await listJobs(db, p.id);
    const rows = await configRows.of([p], new Map([[p.id, jobs]]));
    return Promise.all(jobs.map((j) => jobJsonWithReason(req, j, j, p, rows.get(j.id) ?? { inputs: [], outputs: [] })));
  });

  app.get<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job', PUBLIC, async (req): Promise<Job> => {
    const { p, job } = await jobOf(req);
    // its three builds in one statement; its inputs and outputs as the pipeline's jobs list keeps
    // them (read, not kept, when that list has not been asked for this config)
    const found = await getBuildSummaries(db, [job.nextBuildId, job.latestCompletedBuildId, job.transitionBuildId].filter((id): id is number => id !== null));
    const pick = (id: number | null) => (id === null ? null : (found.get(id) ?? null));
    const builds = { nextBuild: pick(job.nextBuildId), finishedBuild: pick(job.latestCompletedBuildId), transitionBuild: pick(job.transitionBuildId) };
    return jobJsonWithReason(req, job, builds, p, configRows.peek(p, job.id));
  });

  app.get<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/builds', PUBLIC, async (req, reply): Promise<Build[]> => {
    const p = await pipelineOf(db, req);
    const page = pageOf(req.query);
    const builds = await listJobBuildsByName(db, p.id, req.params.job, page);
    if (!builds) throw notFound('JW_JOB_NOT_FOUND', `job ${req.params.job} in pipeline ${p.team}/${p.name}`);
    return sendPage(req, reply, page.limit, builds);
  });

  app.post<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/builds', async (req): Promise<Build> => {
    const { job } = await jobOf(req);
    const build = await createManualBuild(db, job.id, { createdBy: currentUser(req).name });
    req.log.info({ job: job.name, build: build.name, buildId: build.id }, 'job triggered');
    await wake(job.id);
    return jsonWithReason(req, build);
  });

  app.get<{ Params: JobBuildParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/builds/:build', PUBLIC, async (req): Promise<Build> => {
    const { p, job } = await jobOf(req);
    const build = await findJobBuild(db, job.id, req.params.build);
    if (!build) throw notFound('JW_BUILD_NOT_FOUND', `build ${req.params.build} of job ${p.name}/${job.name}`);
    return jsonWithReason(req, build);
  });

  app.post<{ Params: JobBuildParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/builds/:build', async (req): Promise<Build> => {
    const { p, job } = await jobOf(req);
    const original = await findJobBuild(db, job.id, req.params.build);
    if (!original) throw notFound('JW_BUILD_NOT_FOUND', `build ${req.params.build} of job ${p.name}/${job.name}`);
    const build = await createRerun(db, original.id, { createdBy: currentUser(req).name });
    await wake(job.id);
    return json(build);
  });

  app.put<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/pause', async (req, reply) => {
    const { job } = await jobOf(req);
    await pauseJob(db, job.id, currentUser(req).name);
    return reply.code(200).send();
  });

  app.put<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/unpause', async (req, reply) => {
    const { job } = await jobOf(req);
    await unpauseJob(db, job.id);
    await wake(job.id);
    return reply.code(200).send();
  });

  app.put<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/schedule', async (req, reply) => {
    const { job } = await jobOf(req);
    await requestJobSchedule(db, job.id);
    await wake(job.id);
    return reply.code(200).send();
  });

  // The task caches of a job's step (of one cache path with ?cache_path=), kept by the runtime.
  app.delete<{ Params: TaskStepParams; Querystring: { cache_path?: string | string[] } }>(
    '/teams/:team/pipelines/:pipeline/jobs/:job/tasks/:step/cache',
    async (req): Promise<ClearCacheResponse> => {
      const { p, job } = await jobOf(req);
      const step = req.params.step;
      if (!hasTaskStep(job, step)) throw notFound('JW_TASK_STEP_NOT_FOUND', `task step ${step} of job ${p.name}/${job.name}`);
      const path = req.query.cache_path;
      if (Array.isArray(path)) throw badRequest('query parameter cache_path must be given once');
      const runtime = opts.runtime;
      if (!runtime?.clearTaskCache) throw unavailable('clearing task caches is not available: this API server runs without a runtime that keeps them');
      const removed = await runtime.clearTaskCache(taskCacheKey(p.id, job.name, step), path === '' ? undefined : path);
      req.log.info({ pipeline: p.name, job: job.name, step, cachePath: path, removed }, 'task caches cleared');
      return { caches_removed: removed };
    },
  );

  // The next build's inputs as the scheduler last resolved them (next_build_inputs): each with
  // its version, or the reason it could not be resolved.
  app.get<{ Params: JobParams }>('/teams/:team/pipelines/:pipeline/jobs/:job/inputs', async (req): Promise<NextBuildInput[]> => {
    const { p, job } = await jobOf(req);
    const configs = await jobInputConfigs(db, job.id);
    const jobNames = new Map((await listJobs(db, p.id)).map((j) => [j.id, j.name]));
    const next = new Map((await nextBuildInputs(db, job.id)).map((i) => [i.name, i]));
    // the resource's type and source and the get's params and tags (atc/api/present/build_input.go);
    // a team member's route, as ListJobInputs is Concourse's
    const resources = new Map((await listResourceViews(db, p.id)).map((r) => [r.name, r]));
    const gets = new Map(jobInputs(job.config, [...jobNames.values()]).map((g) => [g.name, g]));
    const out: NextBuildInput[] = [];
    for (const c of configs) {
      const n = next.get(c.name);
      const resourceId = n?.resourceId ?? c.resourceId;
      const version = n?.versionDigest ? await versionByDigest(db, resourceId, n.versionDigest) : undefined;
      const resource = resources.get(c.resourceName);
      const get = gets.get(c.name);
      const source = resource?.config.source;
      out.push({
        name: c.name,
        resource: c.resourceName,
        type: resource?.type ?? '',
        source: typeof source === 'object' && source !== null && !Array.isArray(source) ? (source as Record<string, unknown>) : undefined,
        params: get?.params,
        tags: get?.tags,
        trigger: c.trigger,
        passed: c.passed.length > 0 ? c.passed.map((id) => jobNames.get(id) ?? String(id)) : undefined,
        version,
        first_occurrence: n ? n.firstOccurrence : undefined,
        resolve_error: n?.resolveError ?? (n ? undefined : 'not resolved yet: the scheduler has not determined this input'),
      });
    }
    return out;
  });

  // ---------------------------------------------------------------- builds

  // The builds of the caller's teams and of public pipelines, paged by id with Link headers; with
  // ?timestamps=true, from/to are start times in unix seconds and there are no pages (fly builds
  // --since/--until; Concourse's VisibleBuilds and getBuildsWithDates, atc/db/build_factory.go)
  app.get('/builds', async (req, reply): Promise<Build[]> => {
    const user = currentUser(req);
    const page = pageOf(req.query);
    const teams = opts.lookups ? (await opts.lookups.teams()).filter((t) => user.teams.includes(t.name)) : await listTeamRecords(db, user.teams);
    const teamIds = teams.map((t) => t.id);
    if (timestampsRequested(req.query)) {
      const builds = await buildsStartedBetween(db, { teamIds, orPublic: true }, { since: page.from, until: page.to }, page.limit);
      return jsonWithReasons(req, builds);
    }
    return sendPage(req, reply, page.limit, await listBuilds(db, { teamIds, orPublic: true }, page));
  });

  app.get<{ Params: { team: string } }>('/teams/:team/builds', async (req, reply): Promise<Build[]> => {
    assertTeam(req, req.params.team);
    const teams = await listTeamRecords(db, [req.params.team]);
    const team = teams[0];
    if (!team) throw notFound('JW_TEAM_NOT_FOUND', `team ${req.params.team}`);
    const page = pageOf(req.query);
    return sendPage(req, reply, page.limit, await listBuilds(db, { teamId: team.id }, page));
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/builds', PUBLIC, async (req, reply): Promise<Build[]> => {
    const p = await pipelineOf(db, req);
    const page = pageOf(req.query);
    return sendPage(req, reply, page.limit, await listBuilds(db, { pipelineId: p.id }, page));
  });

  app.get<{ Params: { id: string } }>('/builds/:id', PUBLIC, async (req): Promise<Build> => jsonWithReason(req, await buildOf(req, false, true)));

  app.get<{ Params: { id: string } }>('/builds/:id/plan', PUBLIC, async (req): Promise<PublicBuildPlan> => {
    const build = await buildOf(req);
    const plans = await getBuildPlans(db, build.id);
    if (!plans?.publicPlan) throw notFound('JW_BUILD_PLAN_NOT_FOUND', `plan of build ${build.id} (the build has not started)`);
    return { schema: 'exec.v2', plan: plans.publicPlan };
  });

  app.get<{ Params: { id: string } }>('/builds/:id/preparation', PUBLIC, async (req): Promise<BuildPreparation> => {
    const build = await buildOf(req);
    return buildPreparation(db, build.id, readerIn(req, build.teamName));
  });

  app.get<{ Params: { id: string } }>('/builds/:id/resources', PUBLIC, async (req): Promise<BuildInputsOutputs> => {
    const build = await buildOf(req, false);
    const [inputs, outputs] = await Promise.all([buildInputs(db, build.id), buildOutputs(db, build.id)]);
    return {
      inputs: inputs.map((i) => ({
        name: i.name,
        resource: i.resourceName,
        version: i.version ?? null,
        first_occurrence: i.firstOccurrence,
        pipeline_id: build.pipelineId ?? undefined,
      })),
      outputs: outputs.map((o) => ({ name: o.name, resource: o.resourceName, version: o.version ?? null })),
    };
  });

  app.put<{ Params: { id: string }; Querystring: { force?: string } }>('/builds/:id/abort', async (req, reply) => {
    const build = await buildOf(req);
    const force = req.query.force !== undefined && req.query.force !== 'false';
    const result = await abortBuild(db, build.id, { force });
    req.log.info({ buildId: build.id, force, by: currentUser(req).name }, 'build aborted');
    if (!result.build.completed && opts.engine) await opts.engine.abortBuild(build.id);
    if (result.build.jobId !== null) await wake(result.build.jobId);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/builds/:id/events', PUBLIC, async (req, reply) => {
    const build = await buildOf(req, true, true);
    const header = req.headers['last-event-id'];
    let lastEventId = -1;
    if (header !== undefined) {
      const text = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
      if (!/^\d+$/.test(text)) throw badRequest(`Last-Event-ID header must be a number (got '${text}')`);
      lastEventId = Number(text);
    }
    reply.hijack();
    try {
      await streamBuildEvents({
        db,
        notifier,
        buildId: build.id,
        lastEventId,
        pollIntervalMs: opts.eventPollIntervalMs ?? 250,
        res: reply.raw,
        ...(opts.eventStallTimeoutMs !== undefined ? { stallTimeoutMs: opts.eventStallTimeoutMs } : {}),
        onStalled: () => req.log.warn({ buildId: build.id }, 'build event stream dropped: the client read nothing'),
      });
    } catch (err) {
      req.log.warn({ buildId: build.id, err }, 'build event stream failed');
      reply.raw.destroy();
    }
  });
}
