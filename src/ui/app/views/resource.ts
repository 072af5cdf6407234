// A resource: its latest check, its pin (a banner with the pinned version, its comment and
// unpin), its versions (newest first) with their metadata, pin, disable and enable buttons, and
// a button that checks it now. A failed action's error stays on the page until it is dismissed
// or the next action starts.
import type { Build, Resource, ResourceVersion } from '../../../api/wire.ts';
import { ApiError } from '../api.ts';
import { h, type Children } from '../dom.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { statusClass } from '../status.ts';
import { formatAgo } from '../time.ts';
import { formatVersion, pinBanner, versionRow, type PinBanner } from '../versions.ts';
import { button, describeError, pipelineCrumbs, Region, type ViewContext } from '../view.ts';

const POLL_MS = 5000;

export function resourceView(ctx: ViewContext, pipeline: PipelineRef, name: string): void {
  /** the API path of the resource or of something in it (`/versions`), the instance vars in its query */
  const path = (sub = '', params: Record<string, string> = {}): string => pipelineApiPath(pipeline, `/resources/${encodeURIComponent(name)}${sub}`, params);
  ctx.title([...pipelineCrumbs(pipeline), { label: name }]);
  const header = new Region(h('div', { class: 'page-header' }));
  const pin = new Region(h('section', { class: 'pin-banner', 'aria-label': 'pinned version' }));
  const failureText = h('span', null);
  const failure = h(
    'div',
    { class: 'action-error', role: 'alert', hidden: true },
    failureText,
    button('dismiss', () => (failure.hidden = true), { class: 'link-button' }),
  );
  const versions = new Region(h('div', { class: 'versions' }));
  const checkNote = h('p', { class: 'muted', 'aria-live': 'polite' });
  ctx.content.replaceChildren(header.element, pin.element, failure, checkNote, h('h2', null, 'Versions'), versions.element);

  /**
   * Runs a button's action, then shows the resource as it now is. Its failure (say a 409: the
   * pipeline config pins the resource) is shown above the versions, where polling leaves it
   * (the context's banner, by contrast, is cleared by the next successful poll).
   */
  const act = (b: HTMLButtonElement, what: string, fn: () => Promise<unknown>): void =>
    void ctx.action(b, async () => {
      failure.hidden = true;
      try {
        await fn();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw err; // the session is over: the login page says why
        const reason = err instanceof TypeError ? `cannot reach the Jetway server (${err.message})` : describeError(err);
        failureText.textContent = `Could not ${what}: ${reason}`;
        failure.hidden = false;
      }
      await refresh();
    });

  // the pin banner: the pin as the last poll found it, and whether its comment is being edited
  let banner: PinBanner | undefined;
  let editing = false;
  const showPin = (): void => {
    const b = banner;
    if (!b) editing = false;
    // keyed on the pin alone: a check does not redraw the comment being typed
    pin.update([b ?? null, editing], () => (b ? renderPin(b) : null));
  };
  const edit = (on: boolean): void => {
    editing = on;
    showPin();
    // focus follows: into the form, or back to the button that opens it
    pin.element.querySelector<HTMLElement>(on ? 'input' : '[data-edit-comment]')?.focus();
  };

  const commentForm = (comment: string): HTMLFormElement => {
    const input = h('input', { id: 'pin-comment', type: 'text', name: 'pin_comment', value: comment, autocomplete: 'off', placeholder: 'why this version is pinned' });
    const save = h('button', { type: 'submit' }, 'save comment');
    return h(
      'form',
      {
        class: 'pin-comment',
        onsubmit: (e) => {
          e.preventDefault();
          act(save, 'save the pin comment', async () => {
            await ctx.api.send('PUT', path('/pin_comment'), { pin_comment: input.value });
            editing = false;
          });
        },
        onkeydown: (e) => {
          if ((e as KeyboardEvent).key === 'Escape') edit(false);
        },
      },
      h('label', { for: 'pin-comment' }, 'pin comment'),
      input,
      save,
      button('cancel', () => edit(false)),
    );
  };

  const renderPin = (b: PinBanner): Children => [
    h(
      'p',
      null,
      h('span', { class: 'badge pinned' }, 'pinned'),
      ' to ',
      h('code', { 'data-pinned-version': true }, formatVersion(b.version)),
      b.inConfig ? ' in the pipeline config' : null,
      b.versionId === undefined ? h('span', { class: 'muted' }, ' (not among the versions listed below)') : null,
    ),
    b.inConfig
      ? h('p', { class: 'muted small' }, "A pin in the pipeline config cannot be removed here: change or remove the resource's version in the config and set the pipeline again.")
      : null,
    b.comment && !(editing && b.canEditComment) ? h('p', { class: 'pin-comment-text' }, h('span', { class: 'muted' }, 'comment: '), b.comment) : null,
    editing && b.canEditComment ? commentForm(b.comment) : null,
    h(
      'div',
      { class: 'actions' },
      b.canUnpin ? button('unpin', (btn) => act(btn, 'unpin the resource', () => ctx.api.send('PUT', path('/unpin')))) : null,
      b.canEditComment && !editing ? button(b.comment ? 'edit comment' : 'add comment', () => edit(true), { 'data-edit-comment': true }) : null,
    ),
  ];

  const refresh = ctx.poll(POLL_MS, async () => {
    const [resource, list] = await Promise.all([
      ctx.api.get<Resource>(path(), ctx.signal),
      ctx.api.get<ResourceVersion[]>(path('/versions', { limit: '100' }), ctx.signal),
    ]);
    const minute = Math.floor(Date.now() / 60_000);
    header.update([resource, minute], () => [
      h('h1', null, name, ' ', h('span', { class: 'muted' }, resource.type), resource.pinned_version ? h('span', { class: 'badge pinned' }, 'pinned') : null),
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
            const build = await ctx.api.send<Build>('POST', path('/check'), {});
            checkNote.replaceChildren('check started: ', build ? h('a', { href: routeHash({ page: 'build', id: build.id }) }, `build ${build.id}`) : '');
            await refresh();
          }),
        ),
      ),
    ]);
    banner = pinBanner(resource, list);
    showPin();
    versions.update([list, banner?.versionId, banner?.inConfig], () =>
      list.length === 0
        ? h('p', { class: 'empty' }, 'No versions yet.')
        : h(
            'ol',
            { class: 'version-list' },
            list.map((v) => {
              const row = versionRow(v, banner);
              const text = formatVersion(v.version);
              return h(
                'li',
                { class: row.className, 'data-version-id': v.id, 'data-state': row.states.join(' ') || 'enabled' },
                h(
                  'div',
                  { class: 'version-line' },
                  h('code', null, text),
                  row.states.map((s) => h('span', { class: `badge ${s}` }, s)),
                  h(
                    'span',
                    { class: 'actions' },
                    row.actions.map((a) =>
                      button(a, (b) => act(b, `${a} ${text}`, () => ctx.api.send('PUT', path(`/versions/${v.id}/${a}`))), { 'aria-label': `${a} ${text}` }),
                    ),
                  ),
                ),
                v.metadata && v.metadata.length > 0
                  ? h('dl', { class: 'metadata-list' }, v.metadata.map((m) => [h('dt', null, m.name), h('dd', null, m.value)]))
                  : null,
              );
            }),
          ),
    );
  });
}
