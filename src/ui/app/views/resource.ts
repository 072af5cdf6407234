// A resource: its latest check, its versions (newest first) with their metadata, and a button
// that checks it now.
import type { Build, Resource, ResourceVersion } from '../api-types.ts';
import { h } from '../dom.ts';
import { pipelineApiPath, routeHash } from '../routes.ts';
import { statusClass } from '../status.ts';
import { formatAgo } from '../time.ts';
import { button, Region, type ViewContext } from '../view.ts';

const POLL_MS = 5000;

export function resourceView(ctx: ViewContext, pipeline: string, name: string): void {
  const path = `${pipelineApiPath(ctx.team, pipeline)}/resources/${encodeURIComponent(name)}`;
  ctx.title([{ label: pipeline, href: routeHash({ page: 'pipeline', pipeline }) }, { label: name }]);
  const header = new Region(h('div', { class: 'page-header' }));
  const versions = new Region(h('div', { class: 'versions' }));
  const checkNote = h('p', { class: 'muted', 'aria-live': 'polite' });
  ctx.content.replaceChildren(header.element, checkNote, h('h2', null, 'Versions'), versions.element);

  const refresh = ctx.poll(POLL_MS, async () => {
    const [resource, list] = await Promise.all([
      ctx.api.get<Resource>(path, ctx.signal),
      ctx.api.get<ResourceVersion[]>(`${path}/versions?limit=100`, ctx.signal),
    ]);
    const minute = Math.floor(Date.now() / 60_000);
    header.update([resource, minute], () => [
      h('h1', null, name, ' ', h('span', { class: 'muted' }, resource.type), resource.pinned_version ? h('span', { class: 'badge' }, 'pinned') : null),
      h(
        'p',
        null,
        resource.last_checked ? `last checked ${formatAgo(resource.last_checked, Date.now())}` : 'not checked yet',
        resource.build
          ? [' · latest check: ', h('a', { href: routeHash({ page: 'build', id: resource.build.id }) }, h('span', { class: `badge ${statusClass(resource.build.status)}` }, resource.build.status))]
          : null,
      ),
      h(
        'div',
        { class: 'actions' },
        button('check now', (b) =>
          void ctx.action(b, async () => {
            const build = await ctx.api.send<Build>('POST', `${path}/check`, {});
            checkNote.replaceChildren('check started: ', build ? h('a', { href: routeHash({ page: 'build', id: build.id }) }, `build ${build.id}`) : '');
            await refresh();
          }),
        ),
      ),
    ]);
    versions.update(list, () =>
      list.length === 0
        ? h('p', { class: 'empty' }, 'No versions yet.')
        : h(
            'ol',
            { class: 'version-list' },
            list.map((v) =>
              h(
                'li',
                { class: v.enabled ? undefined : 'disabled', 'data-version-id': v.id },
                h('code', null, Object.entries(v.version).map(([k, x]) => `${k}: ${x}`).join(', ')),
                v.enabled ? null : h('span', { class: 'badge' }, 'disabled'),
                v.metadata && v.metadata.length > 0
                  ? h('dl', { class: 'metadata-list' }, v.metadata.map((m) => [h('dt', null, m.name), h('dd', null, m.value)]))
                  : null,
              ),
            ),
          ),
    );
  });
}
