// Build status badges (SVG), as Concourse serves them for jobs and pipelines
// (atc/api/jobserver/badge.go, pipelineserver/badge.go): the same words, colours and widths, so
// READMEs that embed a Concourse badge look the same pointed at Jetway. Pure.
import type { BuildStatus } from '../model/build-events.ts';

interface BadgeStyle {
  status: string;
  color: string;
  /** the whole badge's width with the default title "build" */
  width: number;
}

const PASSING: BadgeStyle = { status: 'passing', color: '#44cc11', width: 88 };
const FAILING: BadgeStyle = { status: 'failing', color: '#e05d44', width: 80 };
const UNKNOWN: BadgeStyle = { status: 'unknown', color: '#9f9f9f', width: 98 };
const ABORTED: BadgeStyle = { status: 'aborted', color: '#8f4b2d', width: 90 };
const ERRORED: BadgeStyle = { status: 'errored', color: '#fe7d37', width: 88 };

/** The badge of a finished build's status; no build (or an unfinished status) is "unknown". */
export function badgeStyle(status: BuildStatus | undefined): BadgeStyle {
  switch (status) {
    case 'succeeded':
      return PASSING;
    case 'failed':
      return FAILING;
    case 'aborted':
      return ABORTED;
    case 'errored':
      return ERRORED;
    default:
      return UNKNOWN;
  }
}

/** Concourse's order for a pipeline's badge: the worst latest finished build of its jobs. */
const PRECEDENCE: Partial<Record<BuildStatus, number>> = { failed: 1, errored: 2, aborted: 3, succeeded: 4 };

/** The status a pipeline's badge shows, from its jobs' latest finished builds (undefined: none). */
export function pipelineBadgeStatus(finished: readonly (BuildStatus | undefined)[]): BuildStatus | undefined {
  let worst: BuildStatus | undefined;
  for (const status of finished) {
    if (status === undefined) continue;
    if (worst === undefined || (PRECEDENCE[status] ?? 5) < (PRECEDENCE[worst] ?? 5)) worst = status;
  }
  return worst;
}

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The longest custom title kept: a badge is a label, not a place for text. */
export const MAX_BADGE_TITLE = 64;

/**
 * The SVG. `title` (the `?title=` query) replaces "build"; its width grows with its length as
 * Concourse computes it (6 px a character plus padding).
 */
export function badgeSvg(style: BadgeStyle, title?: string): string {
  const custom = title !== undefined && title !== '';
  const text = custom ? title.slice(0, MAX_BADGE_TITLE) : 'build';
  const titleWidth = custom ? text.length * 6 + (text.length <= 8 ? 12 : text.length <= 15 ? 6 : 0) : 37;
  const statusWidth = style.width - 37;
  const width = titleWidth + statusWidth;
  const titleX = custom ? (titleWidth / 2).toFixed(1) : '18.5';
  const statusX = custom ? (titleWidth + statusWidth / 2).toFixed(1) : (style.width / 2 + 17.5).toFixed(1);
  const label = escapeXml(text);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${label}: ${style.status}">`,
    `<title>${label}: ${style.status}</title>`,
    '<linearGradient id="shade" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>',
    `<clipPath id="round"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>`,
    '<g clip-path="url(#round)">',
    `<rect width="${titleWidth}" height="20" fill="#555"/>`,
    `<rect x="${titleWidth}" width="${statusWidth}" height="20" fill="${style.color}"/>`,
    `<rect width="${width}" height="20" fill="url(#shade)"/>`,
    '</g>',
    '<g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">',
    `<text x="${titleX}" y="15" fill="#010101" fill-opacity=".3">${label}</text><text x="${titleX}" y="14">${label}</text>`,
    `<text x="${statusX}" y="15" fill="#010101" fill-opacity=".3">${style.status}</text><text x="${statusX}" y="14">${style.status}</text>`,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
