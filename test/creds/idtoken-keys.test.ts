// The idtoken signing keys' lifecycle (src/creds/idtoken/keys.ts; Concourse's atc/creds/idtoken/
// lifecycle.go): which key signs and which are published, against an in-memory store. One row
// per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentKey, publishedKeys, PUBLISHED_FOR_MS, ROTATE_AFTER_MS, type SigningKeyStore, type StoredKey } from '../../src/creds/idtoken/keys.ts';
import type { SigningKey } from '../../src/creds/idtoken/token.ts';

class MemoryKeys implements SigningKeyStore {
  readonly keys: StoredKey[] = [];
  constructor(private readonly now: Date) {}
  async newest(kind: 'RSA' | 'EC'): Promise<StoredKey | undefined> {
    return this.keys.filter((k) => k.kind === kind).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  }
  async add(key: SigningKey): Promise<void> {
    this.keys.push({ ...key, createdAt: this.now });
  }
  async since(cutoff: Date): Promise<StoredKey[]> {
    return this.keys.filter((k) => k.createdAt >= cutoff);
  }
}

const NOW = new Date('2026-12-04T06:00:00Z');
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const stored = (kid: string, kind: 'RSA' | 'EC', createdAt: Date): StoredKey => ({ kid, kind, privateJwk: {}, createdAt });

const rotationRows: { name: string; keys: StoredKey[]; kind: 'RSA' | 'EC'; signsWith: string | 'new' }[] = [
  { name: 'no key yet: one is made', keys: [], kind: 'RSA', signsWith: 'new' },
  { name: 'a day-old key signs', keys: [stored('r1', 'RSA', ago(86_400_000))], kind: 'RSA', signsWith: 'r1' },
  { name: 'the newest of two signs', keys: [stored('r1', 'RSA', ago(5 * 86_400_000)), stored('r2', 'RSA', ago(3_600_000))], kind: 'RSA', signsWith: 'r2' },
  { name: 'a week-old key is replaced', keys: [stored('r1', 'RSA', ago(ROTATE_AFTER_MS))], kind: 'RSA', signsWith: 'new' },
  { name: 'an RSA key does not sign ES256', keys: [stored('r1', 'RSA', ago(60_000))], kind: 'EC', signsWith: 'new' },
];
for (const row of rotationRows) {
  test(`idtoken signing key: ${row.name}`, async () => {
    const store = new MemoryKeys(NOW);
    store.keys.push(...row.keys);
    const key = await currentKey(store, row.kind, NOW);
    if (row.signsWith === 'new') {
      assert.ok(!row.keys.some((k) => k.kid === key.kid), 'a new key');
      assert.equal(key.kind, row.kind);
      assert.equal(store.keys.length, row.keys.length + 1, 'kept in the store, so every web node signs with it');
      assert.ok(key.privateJwk.d, 'a private key');
    } else {
      assert.equal(key.kid, row.signsWith);
      assert.equal(store.keys.length, row.keys.length, 'nothing made');
    }
  });
}

const publishRows: { name: string; age: number; published: boolean }[] = [
  { name: 'the current key', age: 0, published: true },
  { name: 'a key replaced a day ago (tokens signed before still live)', age: ROTATE_AFTER_MS + 3_600_000, published: true },
  { name: 'a key older than a week and a day', age: PUBLISHED_FOR_MS + 1, published: false },
];
for (const row of publishRows) {
  test(`idtoken JWKS: ${row.name} is ${row.published ? '' : 'not '}published`, async () => {
    const store = new MemoryKeys(NOW);
    store.keys.push(stored('k', 'EC', ago(row.age)));
    assert.deepEqual((await publishedKeys(store, NOW)).map((k) => k.kid), row.published ? ['k'] : []);
  });
}
