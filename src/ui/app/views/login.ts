// The login page: a user name and password for `POST /api/v1/token`. The password is sent
// there and nowhere else; a failed attempt clears it.
import { ApiError, login, type Session } from '../api.ts';
import { h } from '../dom.ts';

export interface LoginOptions {
  /** why the user is here (a session that ended), shown above the form */
  notice?: string;
  onLoggedIn(session: Session): void;
}

export function loginView(main: HTMLElement, opts: LoginOptions): void {
  document.title = 'log in - Jetway';
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'log in');
  const error = h('p', { class: 'login-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to Jetway'),
    opts.notice ? h('p', { class: 'notice', role: 'status' }, opts.notice) : null,
    h('label', { for: 'login-username' }, 'username'),
    username,
    h('label', { for: 'login-password' }, 'password'),
    password,
    submit,
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    login(username.value, password.value).then(
      (session) => opts.onLoggedIn(session),
      (err: unknown) => {
        submit.disabled = false;
        password.value = '';
        password.focus();
        error.hidden = false;
        error.textContent =
          err instanceof ApiError
            ? err.status === 401
              ? 'Login failed: invalid username or password.'
              : `Login failed: ${err.message}`
            : 'Login failed: cannot reach the Jetway server.';
      },
    );
  });
  main.replaceChildren(form);
  username.focus();
}
