// Status badges (src/api/badge.ts): Concourse's words, colours and widths
// (atc/api/jobserver/badge.go), one row per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { badgeStyle, badgeSvg, pipelineBadgeStatus } from '../../src/api/badge.ts';
import type { BuildStatus } from '../../src/model/build-events.ts';

const STYLES: [BuildStatus | undefined, string, string, number][] = [
  ['succeeded', 'passing', '#44cc11', 88],
  ['failed', 'failing', '#e05d44', 80],
  ['errored', 'errored', '#fe7d37', 88],
  ['aborted', 'aborted', '#8f4b2d', 90],
  [undefined, 'unknown', '#9f9f9f', 98],
  ['started', 'unknown', '#9f9f9f', 98],
  ['pending', 'unknown', '#9f9f9f', 98],
];
for (const [status, word, color, width] of STYLES) {
  test(`a ${status ?? 'missing'} build's badge says ${word} in ${color}, ${width} px wide`, () => {
    const svg = badgeSvg(badgeStyle(status));
    assert.match(svg, new RegExp(`^<svg [^>]*width="${width}" height="20"`));
    assert.match(svg, new RegExp(`fill="${color}"`));
    assert.match(svg, new RegExp(`<text x="${(width / 2 + 17.5).toFixed(1)}" y="14">${word}</text>`));
    assert.match(svg, /<text x="18\.5" y="14">build<\/text>/);
  });
}

const PIPELINES: [string, (BuildStatus | undefined)[], BuildStatus | undefined][] = [
  ['no jobs', [], undefined],
  ['no finished builds', [undefined, undefined], undefined],
  ['all succeeded', ['succeeded', 'succeeded'], 'succeeded'],
  ['failed beats errored, aborted and succeeded', ['succeeded', 'aborted', 'errored', 'failed'], 'failed'],
  ['errored beats aborted', ['aborted', 'errored', 'succeeded'], 'errored'],
  ['aborted beats succeeded', ['succeeded', 'aborted'], 'aborted'],
  ['a job without a finished build is skipped', [undefined, 'succeeded'], 'succeeded'],
];
for (const [name, jobs, want] of PIPELINES) {
  test(`pipeline badge: ${name}`, () => {
    assert.equal(pipelineBadgeStatus(jobs), want);
  });
}

const TITLES: [string, number][] = [
  ['ci', 2 * 6 + 12],
  ['deploy-prod', 11 * 6 + 6],
  ['a-much-longer-title-x', 21 * 6],
];
for (const [title, titleWidth] of TITLES) {
  test(`?title=${title}: the title box is ${titleWidth} px and the status box keeps its width`, () => {
    const svg = badgeSvg(badgeStyle('succeeded'), title);
    assert.match(svg, new RegExp(`<rect width="${titleWidth}" height="20" fill="#555"/>`));
    assert.match(svg, new RegExp(`^<svg [^>]*width="${titleWidth + 51}"`));
  });
}

test('a title is escaped: no markup gets into the SVG', () => {
  const svg = badgeSvg(badgeStyle('failed'), '<script>"x"&');
  assert.ok(!svg.includes('<script>'));
  assert.match(svg, /&lt;script&gt;&quot;x&quot;&amp;/);
});
