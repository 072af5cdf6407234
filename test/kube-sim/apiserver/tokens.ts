// Service account tokens: what the TokenRequest API (`serviceaccounts/token`, `kubectl create
// token`) and the token controller (Secrets of type kubernetes.io/service-account-token) issue, and
// how the authenticator resolves them. Tokens look like the real ones (a JWT with the
// kubernetes.io claims, signed with a key made per cluster, HS256 here rather than RS256) and are
// checked as the real authenticator checks them: signature, expiry, and that the service account
// (and the secret, for a secret's token) still exists with the same uid.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ObjectStore } from './store.ts';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

export class ServiceAccountTokens {
  private readonly key = randomBytes(32);

  constructor(private readonly store: ObjectStore, private readonly issuer = 'https://kubernetes.default.svc.cluster.local') {}

  /** A signed token for the account; `expirationSeconds` undefined: no expiry (a legacy secret token). */
  issue(namespace: string, name: string, opts: { expirationSeconds?: number; audiences?: string[] } = {}): { token: string; expiresAt?: Date } {
    const sa = this.store.get('serviceaccounts', namespace, name);
    if (!sa) throw new Error(`serviceaccount ${namespace}/${name} not found`);
    const now = Math.floor(Date.now() / 1000);
    const exp = opts.expirationSeconds !== undefined ? now + opts.expirationSeconds : undefined;
    const claims = {
      aud: opts.audiences ?? [this.issuer],
      ...(exp !== undefined ? { exp } : {}),
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': { namespace, serviceaccount: { name, uid: sa.metadata?.uid ?? '' } },
      nbf: now,
      sub: `system:serviceaccount:${namespace}:${name}`,
    };
    const head = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'kube-sim' }))}.${b64url(JSON.stringify(claims))}`;
    const token = `${head}.${createHmac('sha256', this.key).update(head).digest('base64url')}`;
    return exp !== undefined ? { token, expiresAt: new Date(exp * 1000) } : { token };
  }

  /** The account a token stands for, if it is valid now. */
  resolve(token: string): ServiceAccountRef | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, sig] = parts as [string, string, string];
    const expected = createHmac('sha256', this.key).update(`${h}.${p}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: { exp?: number; 'kubernetes.io'?: { namespace?: string; serviceaccount?: { name?: string; uid?: string } } };
    try {
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return undefined;
    }
    if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) return undefined;
    const k = claims['kubernetes.io'];
    const namespace = k?.namespace;
    const name = k?.serviceaccount?.name;
    if (!namespace || !name) return undefined;
    const sa = this.store.get('serviceaccounts', namespace, name);
    if (!sa || sa.metadata?.uid !== k.serviceaccount?.uid) return undefined;
    if (claims.exp === undefined) {
      // a legacy token is valid while a secret holding it exists
      const held = this.store.list('secrets', namespace).some((s) => s.type === 'kubernetes.io/service-account-token' && typeof (s.data as Record<string, unknown> | undefined)?.token === 'string' && Buffer.from(String((s.data as Record<string, string>).token), 'base64').toString('utf8') === token);
      if (!held) return undefined;
    }
    return { namespace, name, uid: sa.metadata?.uid ?? '' };
  }
}
