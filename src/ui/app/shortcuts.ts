// Keyboard shortcuts, Concourse's where it has them: `?` lists them in a dialog, Escape closes
// it. Pages add their own (ViewContext.onKey); none acts while the user types in a field.
import { h } from './dom.ts';

/** Every shortcut, by page, as the help dialog lists them. */
export const SHORTCUTS: readonly { keys: string; what: string; where: string }[] = [
  { keys: '?', what: 'show or hide this list', where: 'every page' },
  { keys: 'd', what: 'go to the dashboard', where: 'every page' },
  { keys: '/', what: 'search the pipelines', where: 'dashboard' },
  { keys: '+ / - / 0', what: 'zoom in, zoom out, fit the graph', where: 'pipeline' },
  { keys: 'T', what: 'trigger a new build', where: 'job, build' },
  { keys: 'A', what: 'abort the build', where: 'build' },
  { keys: 'h / l', what: 'the previous / next build of the job', where: 'build' },
  { keys: 't', what: 'show or hide the time of each log line', where: 'build, job' },
];

/** Whether a key event comes from a field the user is typing in. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/** The help dialog: the shortcuts in a table. */
export function shortcutHelp(): { element: HTMLElement; readonly open: boolean; toggle(open?: boolean): void } {
  const close = h('button', { type: 'button', class: 'link-button' }, 'close');
  const element = h(
    'div',
    { class: 'shortcut-help', role: 'dialog', 'aria-modal': 'false', 'aria-label': 'keyboard shortcuts', hidden: true },
    h('h2', null, 'Keyboard shortcuts'),
    h(
      'table',
      null,
      h('tbody', null, SHORTCUTS.map((s) => h('tr', null, h('th', { scope: 'row' }, h('kbd', null, s.keys)), h('td', null, s.what), h('td', { class: 'muted' }, s.where)))),
    ),
    close,
  );
  const state = {
    element,
    get open(): boolean {
      return !element.hidden;
    },
    toggle(open?: boolean): void {
      element.hidden = !(open ?? element.hidden);
      if (!element.hidden) close.focus();
    },
  };
  close.addEventListener('click', () => state.toggle(false));
  return state;
}
