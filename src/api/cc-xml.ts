// cc.xml, the CCTray feed (build monitors, menu-bar lights): one Project per job that has a
// finished build, as Concourse serves it (atc/api/ccserver/get.go): Success / Failure /
// Exception, Building while a build is pending or running, the build's name as its label. Pure.
import type { BuildStatus } from '../model/build-events.ts';

export interface CcJob {
  team: string;
  pipeline: string;
  /** `key:value,…` of an instanced pipeline's vars, else undefined */
  instanceVars?: Record<string, unknown>;
  job: string;
  finished: { name: string; status: BuildStatus; endTime: Date | null } | null;
  running: boolean;
}

const escapeAttr = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

function lastBuildStatus(status: BuildStatus): string {
  if (status === 'succeeded') return 'Success';
  if (status === 'failed') return 'Failure';
  return 'Exception';
}

/** The job's page in Jetway's web UI. */
export function jobWebUrl(externalUrl: string, j: Pick<CcJob, 'team' | 'pipeline' | 'job' | 'instanceVars'>): string {
  const vars = j.instanceVars ? `?vars=${encodeURIComponent(JSON.stringify(j.instanceVars))}` : '';
  const e = encodeURIComponent;
  return `${externalUrl.replace(/\/$/, '')}/#/teams/${e(j.team)}/pipelines/${e(j.pipeline)}/jobs/${e(j.job)}${vars}`;
}

export function ccXml(jobs: readonly CcJob[], externalUrl: string): string {
  const projects = jobs.flatMap((j) => {
    if (!j.finished) return [];
    const name = j.instanceVars ? `${j.pipeline}/${JSON.stringify(j.instanceVars)}/${j.job}` : `${j.pipeline}/${j.job}`;
    const attrs = [
      ['activity', j.running ? 'Building' : 'Sleeping'],
      ['lastBuildLabel', j.finished.name],
      ['lastBuildStatus', lastBuildStatus(j.finished.status)],
      ['lastBuildTime', (j.finished.endTime ?? new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z')],
      ['name', name],
      ['webUrl', jobWebUrl(externalUrl, j)],
    ];
    return [`<Project ${attrs.map(([k, v]) => `${k}="${escapeAttr(v ?? '')}"`).join(' ')}></Project>`];
  });
  return `<Projects>${projects.join('')}</Projects>`;
}
