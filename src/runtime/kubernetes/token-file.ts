// The in-cluster service account token, re-read when the kubelet rotates it. A pod's token is a
// bound, expiring one (a projected volume): the kubelet writes a new one before the old expires,
// swapping the file atomically (a symbolic link to a timestamped directory). client-node's own
// file authenticator re-reads it at most once a minute, as client-go does; Jetway stats the file
// on every request and re-reads it when it changed, so a rotated token is used at once and an
// expired one never outlives its file (test/runtime/kubernetes/token-file.test.ts).
import { readFileSync, statSync } from 'node:fs';
import type { KubeConfig, User } from '@kubernetes/client-node';

/** client-node's authenticator (what `KubeConfig.addAuthenticator` takes; the package does not export its name). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** The auth-provider name and config key a KubeConfig user carries to use this authenticator. */
export const TOKEN_FILE_PROVIDER = 'jetway-token-file';

/** At most this many bytes of token (a projected token is about 1 kB; anything larger is not one). */
const MAX_TOKEN_BYTES = 64 * 1024;

export class TokenFileAuthenticator implements Authenticator {
  private token = '';
  private seen = '';

  isAuthProvider(user: User): boolean {
    return user.authProvider?.name === TOKEN_FILE_PROVIDER && typeof (user.authProvider.config as Record<string, unknown> | undefined)?.path === 'string';
  }

  async applyAuthentication(user: User, opts: { headers?: Record<string, unknown> | object }): Promise<void> {
    const path = (user.authProvider?.config as { path: string }).path;
    const headers = (opts.headers ??= {}) as Record<string, unknown>;
    headers.Authorization = `Bearer ${this.current(path)}`;
    return Promise.resolve();
  }

  /** The file's token, read again when its identity or time changed. */
  current(path: string): string {
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      throw new Error(`cannot read the service account token ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const identity = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    if (identity !== this.seen) {
      if (st.size > MAX_TOKEN_BYTES) throw new Error(`the service account token ${path} is ${st.size} bytes, more than a token can be`);
      const token = readFileSync(path, 'utf8').trim();
      if (token === '') throw new Error(`the service account token ${path} is empty`);
      this.token = token;
      this.seen = identity;
    }
    return this.token;
  }
}
