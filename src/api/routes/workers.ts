// fly workers, containers and volumes (docs/concourse-compatibility.md). Jetway has no Concourse
// workers: steps run as pods (Kubernetes runtime) or processes/containers of a web node (local
// runtime). So, answering with what exists:
// - GET /workers: each web node is one worker (its name, its runtime, `running`, or `landing`
//   while it drains, `stalled` when its heartbeat is late), as atc/api/workerserver/list.go;
// - GET /teams/:team/containers (and /:id): the containers of the team's running builds, and of
//   finished ones whose failed step's container is kept, as the runtime lists them for intercept
//   (pods, local containers; none for host processes), filtered as Concourse's (container-filter.ts);
// - GET /teams/:team/volumes: empty: Jetway keeps no worker volumes (a build's artifacts live in
//   its pod or directory and go with it; resource caches are not volumes).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listWebNodes } from '../../db/cluster.ts';
import { BASE_RESOURCE_TYPES } from '../../config/index.ts';
import { CONCOURSE_COMPATIBLE_VERSION } from '../../version.ts';
import type { InterceptableContainer } from '../../runtime/runtime.ts';
import { forbidden, notFound } from '../errors.ts';
import { assertTeam, currentUser, type ApiServerOptions } from '../context.ts';
import { buildsWithContainers, unix } from '../queries.ts';
// a node whose heartbeat is this late is shown stalled (Concourse's word for a worker gone quiet), as /health counts it
import { STALLED_AFTER_MS } from '../health.ts';
import type { TeamContainer, Worker } from '../wire.ts';
import { containerFilterFrom, containerMatches } from '../container-filter.ts';


export function registerWorkerRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;
  const version = opts.workerVersion ?? opts.concourseVersion ?? CONCOURSE_COMPATIBLE_VERSION;

  // anyone with a role in some team (Concourse's CheckAnyTeamAccessHandler)
  app.get('/workers', async (req: FastifyRequest): Promise<Worker[]> => {
    const user = currentUser(req);
    if (user.teams.length === 0) throw forbidden(`user ${user.name} holds no role in any team`);
    const types = (opts.baseResourceTypes ?? BASE_RESOURCE_TYPES).map((type) => ({ type, image: '', version: '', privileged: false }));
    const now = Date.now();
    return (await listWebNodes(db)).map((n) => ({
      addr: '',
      baggageclaim_url: '',
      // a running build holds at least one container (pod or process) while it runs
      active_containers: n.builds,
      active_volumes: 0,
      active_tasks: n.builds,
      resource_types: types,
      platform: 'linux',
      tags: [],
      team: '',
      name: n.name,
      version,
      start_time: unix(n.startedAt),
      ephemeral: false,
      state: n.draining ? 'landing' : now - n.heartbeatAt.getTime() > STALLED_AFTER_MS ? 'stalled' : 'running',
      ...(opts.runtime ? { runtime: opts.runtime.name } : {}),
    }));
  });

  const teamContainers = async (team: string): Promise<TeamContainer[]> => {
    const runtime = opts.runtime;
    if (!runtime?.interceptableContainers) return [];
    const out: TeamContainer[] = [];
    for (const build of await buildsWithContainers(db, runtime, team)) {
      const list: InterceptableContainer[] = await runtime.interceptableContainers(build.id).catch(() => []);
      for (const c of list) {
        out.push({
          id: c.handle,
          worker_name: c.name,
          state: c.state === 'failed' ? 'failed' : 'created',
          type: c.type,
          step_name: c.step,
          build_id: build.id,
          build_name: build.name,
          ...(build.pipelineId !== null ? { pipeline_id: build.pipelineId, pipeline_name: build.pipelineName ?? '' } : {}),
          ...(build.pipelineInstanceVars ? { pipeline_instance_vars: build.pipelineInstanceVars } : {}),
          ...(build.jobId !== null ? { job_id: build.jobId, job_name: build.jobName ?? '' } : {}),
          working_directory: c.workDir,
        });
      }
    }
    return out;
  };

  // Concourse's filters (pipeline_name, job_name, build_name, step_name, type, ...): fly intercept takes a sole match
  app.get<{ Params: { team: string } }>('/teams/:team/containers', async (req): Promise<TeamContainer[]> => {
    assertTeam(req, req.params.team);
    const filter = containerFilterFrom(req.query);
    return (await teamContainers(req.params.team)).filter((c) => containerMatches(c, filter));
  });

  app.get<{ Params: { team: string; id: string } }>('/teams/:team/containers/:id', async (req): Promise<TeamContainer> => {
    assertTeam(req, req.params.team);
    const found = (await teamContainers(req.params.team)).find((c) => c.id === req.params.id);
    if (!found) throw notFound('JW_CONTAINER_NOT_FOUND', `container ${req.params.id} of team ${req.params.team}`);
    return found;
  });

  app.get<{ Params: { team: string } }>('/teams/:team/volumes', async (req): Promise<unknown[]> => {
    assertTeam(req, req.params.team);
    return [];
  });
}
