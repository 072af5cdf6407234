// What build monitors and READMEs poll: job and pipeline status badges (SVG) and the team's
// cc.xml (CCTray), with Concourse's paths and access rules (atc/wrappa/api_auth_wrappa.go): a
// badge is readable where the pipeline is (its team, or anybody when it is public); cc.xml lists
// a team's pipelines to its members and its public pipelines to anybody else.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findJob, listJobs } from '../../db/jobs.ts';
import { listPipelineViews } from '../../db/views.ts';
import { findTeam } from '../../db/teams.ts';
import { getBuild } from '../../db/builds.ts';
import { ApiError } from '../errors.ts';
import { holdsRole, parseWith, pipelineOf, type ApiServerOptions, type PipelineParams } from '../context.ts';
import { badgeStyle, badgeSvg, MAX_BADGE_TITLE, pipelineBadgeStatus } from '../badge.ts';
import { ccXml, type CcJob } from '../cc-xml.ts';

const unixDate = (s: number | null): Date | null => (s === null ? null : new Date(s * 1000));

const badgeQuery = z.object({ title: z.string().max(MAX_BADGE_TITLE, `at most ${MAX_BADGE_TITLE} characters`).optional() }).loose();

function sendBadge(reply: FastifyReply, svg: string): FastifyReply {
  // a badge must show the current status: no cache anywhere
  return reply
    .type('image/svg+xml')
    .header('Cache-Control', 'no-cache, no-store, must-revalidate')
    .header('Expires', '0')
    .send(svg);
}

const PUBLIC = { config: { publicPipeline: true } };

export function registerFeedRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;

  app.get<{ Params: PipelineParams & { job: string } }>('/teams/:team/pipelines/:pipeline/jobs/:job/badge', PUBLIC, async (req, reply) => {
    const { title } = parseWith(badgeQuery, req.query, 'query');
    const p = await pipelineOf(db, req);
    const job = await findJob(db, p.id, req.params.job);
    if (!job) throw new ApiError('JW_JOB_NOT_FOUND', `job not found: ${req.params.job}`);
    const finished = job.latestCompletedBuildId === null ? undefined : await getBuild(db, job.latestCompletedBuildId);
    return sendBadge(reply, badgeSvg(badgeStyle(finished?.status), title));
  });

  app.get<{ Params: PipelineParams }>('/teams/:team/pipelines/:pipeline/badge', PUBLIC, async (req, reply) => {
    const { title } = parseWith(badgeQuery, req.query, 'query');
    const p = await pipelineOf(db, req);
    const jobs = await listJobs(db, p.id);
    return sendBadge(reply, badgeSvg(badgeStyle(pipelineBadgeStatus(jobs.map((j) => j.finishedBuild?.status))), title));
  });

  // the old badge URL, of team main, moved permanently as Concourse's (atc/mainredirect)
  app.get<{ Params: { pipeline: string; job: string } }>('/pipelines/:pipeline/jobs/:job/badge', { config: { public: true } }, async (req, reply) => {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const e = encodeURIComponent;
    return reply.redirect(`/api/v1/teams/main/pipelines/${e(req.params.pipeline)}/jobs/${e(req.params.job)}/badge${query}`, 301);
  });

  app.get<{ Params: { team: string } }>('/teams/:team/cc.xml', { config: { optionalAuth: true } }, async (req: FastifyRequest<{ Params: { team: string } }>, reply) => {
    const team = req.params.team;
    if (!(await findTeam(db, team))) throw new ApiError('JW_TEAM_NOT_FOUND', `team not found: ${team}`);
    const member = holdsRole(req, team);
    const pipelines = (await listPipelineViews(db, [team], false)).filter((p) => member || p.public);
    const jobs: CcJob[] = [];
    for (const p of pipelines) {
      for (const j of await listJobs(db, p.id)) {
        jobs.push({
          team,
          pipeline: p.name,
          ...(p.instanceVars ? { instanceVars: p.instanceVars } : {}),
          job: j.name,
          finished: j.finishedBuild ? { name: j.finishedBuild.name, status: j.finishedBuild.status, endTime: unixDate(j.finishedBuild.endUnix) } : null,
          running: j.nextBuild !== null,
        });
      }
    }
    return reply.type('application/xml').send(ccXml(jobs, opts.externalUrl));
  });
}
