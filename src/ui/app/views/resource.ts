// A resource: its latest check (when it ran, and when it failed, the check's error and output
// read from its build's events), its pin (a banner with the pinned version, its comment and
// unpin), its versions (newest first) with their metadata, pin, disable and enable buttons and,
// opened, the builds each went into and came out of (Concourse's inputs to / outputs of), and
// a button that checks it now. A failed action's error stays on the page until it is dismissed
// or the next action starts. Logged out (a public pipeline), no buttons.
import type { Build, EventEnvelope, Resource, ResourceVersion } from '../../../api/wire.ts';
import { ApiError } from '../api.ts';
import { append, h, timeElement, type Children } from '../dom.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { checkFailing, statusClass } from '../status.ts';
import { AnsiParser } from '../ansi.ts';
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
  const lastCheck = new Region(h('section', { class: 'last-check', 'aria-label': 'last check' }));
  ctx.content.replaceChildren(header.element, lastCheck.element, pin.element, failure, checkNote, h('h2', null, 'Versions'), versions.element);

  // a failed check's error and output, read once per check build from its events
  const checkOutput = new Map<number, Promise<{ errors: string[]; log: string }>>();
  const readCheck = (id: number): Promise<{ errors: string[]; log: string }> => {
    let known = checkOutput.get(id);
    if (!known) {
      const out = { errors: [] as string[], log: '' };
      const ansi = new AnsiParser();
      known = ctx.api
        .streamEvents(
          id,
          -1,
          {
            onEvents: (events: EventEnvelope[]) => {
              for (const e of events) {
                if (e.event === 'error' && typeof e.data.message === 'string') out.errors.push(e.data.message);
                if (e.event === 'log' && typeof e.data.payload === 'string') out.log += ansi.push(e.data.payload).map((x) => x.text).join('');
              }
            },
          },
          ctx.signal,
        )
        .then(() => out);
      checkOutput.set(id, known);
    }
    return known;
  };
  const showLastCheck = (resource: Resource): void => {
    const b = resource.build;
    lastCheck.update([b ?? null, Math.floor(Date.now() / 60_000)], () => {
      if (!b) return null;
      const failed = checkFailing(resource);
      const when = b.end_time ?? b.start_time;
      const details = h('div', { class: 'check-output', 'data-check-output': b.id });
      if (failed && ctx.api.loggedIn) {
        details.replaceChildren(h('p', { class: 'muted' }, 'reading the check’s output…'));
        readCheck(b.id).then(
          (out) => {
            details.replaceChildren();
            append(
              details,
              out.errors.map((e) => h('p', { class: 'step-error', role: 'alert', 'data-check-error': true }, e)),
              out.log.trim() !== '' ? h('pre', { class: 'log' }, out.log) : null,
              out.errors.length === 0 && out.log.trim() === '' ? h('p', { class: 'muted' }, 'The check said nothing more; see its build.') : null,
            );
          },
          (err: unknown) => details.replaceChildren(h('p', { class: 'muted' }, `The check's output could not be read: ${describeError(err)}`)),
        );
      }
      return [
        h(
          'p',
          { class: failed ? 'check-failed' : undefined },
          failed ? h('span', { class: 'badge status-failed' }, 'check failing') : h('span', { class: `badge ${statusClass(b.status)}` }, `check ${b.status}`),
          ' ',
          when !== undefined ? ['ran ', timeElement(when), ` (${formatAgo(when, Date.now())})`] : 'not started yet',
          ' · ',
          h('a', { href: routeHash({ page: 'build', id: b.id }) }, `check build ${b.id}`),
        ),
        details,
      ];
    });
  };

  // the builds each version went into and came out of, read when its row is opened
  const opened = new Set<number>();
  const usage = (v: ResourceVersion): HTMLDetailsElement => {
    const body = h('div', { class: 'version-builds' });
    const load = (): void => {
      body.replaceChildren(h('p', { class: 'muted small' }, 'loading…'));
      Promise.all([ctx.api.get<Build[]>(path(`/versions/${v.id}/input_to`), ctx.signal), ctx.api.get<Build[]>(path(`/versions/${v.id}/output_of`), ctx.signal)]).then(
        ([inputs, outputs]) =>
          body.replaceChildren(
            buildList('inputs to', inputs, 'input-to'),
            buildList('outputs of', outputs, 'output-of'),
          ),
        (err: unknown) => body.replaceChildren(h('p', { class: 'muted small' }, `could not read the builds: ${describeError(err)}`)),
      );
    };
    const details = h('details', { class: 'version-usage', 'data-version-usage': v.id }, h('summary', null, 'builds'), body);
    details.addEventListener('toggle', () => {
      if (details.open) {
        opened.add(v.id);
        load();
      } else opened.delete(v.id);
    });
    if (opened.has(v.id)) details.open = true; // still open after a refresh (toggle fires, and reads it again)
    return details;
  };

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
        resource.last_checked ? ['last found versions ', timeElement(resource.last_checked), ` (${formatAgo(resource.last_checked, Date.now())})`] : resource.build ? 'no version found yet' : 'not checked yet',
      ),
      h(
        'div',
        { class: 'actions' },
        !ctx.api.loggedIn ? null : button('check now', (b) =>
          void ctx.action(b, async () => {
            const build = await ctx.api.send<Build>('POST', path('/check'), {});
            checkNote.replaceChildren('check started: ', build ? h('a', { href: routeHash({ page: 'build', id: build.id }) }, `build ${build.id}`) : '');
            await refresh();
          }),
        ),
      ),
    ]);
    showLastCheck(resource);
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
                    (ctx.api.loggedIn ? row.actions : []).map((a) =>
                      button(a, (b) => act(b, `${a} ${text}`, () => ctx.api.send('PUT', path(`/versions/${v.id}/${a}`))), { 'aria-label': `${a} ${text}` }),
                    ),
                  ),
                ),
                v.metadata && v.metadata.length > 0
                  ? h('dl', { class: 'metadata-list' }, v.metadata.map((m) => [h('dt', null, m.name), h('dd', null, m.value)]))
                  : null,
                usage(v),
              );
            }),
          ),
    );
  });
}

/** The builds of one side of a version ("inputs to", "outputs of"), linked, newest first. */
function buildList(title: string, builds: Build[], kind: string): HTMLElement {
  return h(
    'div',
    { class: 'version-build-list', 'data-builds': kind },
    h('h3', null, title),
    builds.length === 0
      ? h('p', { class: 'muted small' }, 'no builds')
      : h(
          'ul',
          null,
          builds.map((b) =>
            h(
              'li',
              { 'data-build-id': b.id },
              h('a', { href: routeHash({ page: 'build', id: b.id }) }, b.job_name ? `${b.job_name} #${b.name}` : `build ${b.id}`),
              ' ',
              h('span', { class: `badge ${statusClass(b.status)}` }, b.status),
            ),
          ),
        ),
  );
}
