// Which key signs and which are published (Concourse's signing key lifecycle, atc/creds/idtoken/
// lifecycle.go, done when a token is asked for instead of by a component): a kind's newest key
// signs until it is a week old, then a new one is made; the keys of the last week and a day
// (a token lives a day at most) are published, so a token signed just before a rotation still
// verifies. Two web nodes making one at once is harmless: both are published.
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { signIdToken, type IdTokenConfig, type SigningKey, type TokenContext } from './token.ts';

export interface StoredKey extends SigningKey {
  createdAt: Date;
}

/** The port (src/db/signing-keys.ts's PostgresSigningKeys; an in-memory fake in tests). */
export interface SigningKeyStore {
  newest(kind: 'RSA' | 'EC'): Promise<StoredKey | undefined>;
  add(key: SigningKey): Promise<void>;
  since(cutoff: Date): Promise<StoredKey[]>;
}

export const ROTATE_AFTER_MS = 7 * 24 * 3_600_000;
export const PUBLISHED_FOR_MS = ROTATE_AFTER_MS + 24 * 3_600_000;

const generate = promisify(generateKeyPair);

/** A new key pair, made off the event loop (an RSA key takes tens of milliseconds). */
export async function newSigningKey(kind: 'RSA' | 'EC'): Promise<SigningKey> {
  const { privateKey } = kind === 'RSA' ? await generate('rsa', { modulusLength: 2048 }) : await generate('ec', { namedCurve: 'P-256' });
  return { kid: randomUUID(), kind, privateJwk: privateKey.export({ format: 'jwk' }) };
}

/** The key to sign with now: the newest of the kind, or a new one when it is missing or a week old. */
export async function currentKey(store: SigningKeyStore, kind: 'RSA' | 'EC', now: Date): Promise<SigningKey> {
  const newest = await store.newest(kind);
  if (newest && now.getTime() - newest.createdAt.getTime() < ROTATE_AFTER_MS) return newest;
  const made = await newSigningKey(kind);
  await store.add(made);
  return (await store.newest(kind)) ?? made;
}

/** The keys /.well-known/jwks.json publishes. */
export function publishedKeys(store: SigningKeyStore, now: Date): Promise<StoredKey[]> {
  return store.since(new Date(now.getTime() - PUBLISHED_FOR_MS));
}

/**
 * Signs builds' tokens with the current key of the algorithm's kind (the engine's IdTokenSigner
 * port, src/engine/vars.ts): `issuer` is the web node's external URL, as discovery serves it.
 */
export class IdTokenIssuer {
  constructor(
    private readonly issuer: string,
    private readonly keys: SigningKeyStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async token(config: IdTokenConfig, build: TokenContext): Promise<string> {
    const now = this.now();
    const key = await currentKey(this.keys, config.algorithm === 'ES256' ? 'EC' : 'RSA', now);
    return signIdToken(config, this.issuer.replace(/\/+$/, ''), key, build, now).token;
  }
}
