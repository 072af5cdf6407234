// The idtoken var source's signing keys (migration 0019; src/creds/idtoken/keys.ts decides when
// to make one and which to publish).
import type { JsonWebKey } from 'node:crypto';
import type { Queryable } from './database.ts';

export interface StoredSigningKey {
  kid: string;
  kind: 'RSA' | 'EC';
  privateJwk: JsonWebKey;
  createdAt: Date;
}

type Row = { kid: string; kind: 'RSA' | 'EC'; jwk: JsonWebKey; created_at: Date };
const toKey = (r: Row): StoredSigningKey => ({ kid: r.kid, kind: r.kind, privateJwk: r.jwk, createdAt: r.created_at });

export class PostgresSigningKeys {
  constructor(private readonly db: Queryable) {}

  async newest(kind: 'RSA' | 'EC'): Promise<StoredSigningKey | undefined> {
    const r = await this.db.query<Row>('SELECT kid, kind, jwk, created_at FROM signing_keys WHERE kind = $1 ORDER BY created_at DESC, kid LIMIT 1', [kind]);
    return r.rows[0] ? toKey(r.rows[0]) : undefined;
  }

  async add(key: Omit<StoredSigningKey, 'createdAt'>): Promise<void> {
    await this.db.query('INSERT INTO signing_keys (kid, kind, jwk) VALUES ($1, $2, $3::jsonb) ON CONFLICT (kid) DO NOTHING', [key.kid, key.kind, JSON.stringify(key.privateJwk)]);
  }

  /** Keys made since `cutoff` (the ones tokens still alive may be signed with), newest first. */
  async since(cutoff: Date): Promise<StoredSigningKey[]> {
    const r = await this.db.query<Row>('SELECT kid, kind, jwk, created_at FROM signing_keys WHERE created_at >= $1 ORDER BY created_at DESC, kid', [cutoff]);
    return r.rows.map(toKey);
  }
}
