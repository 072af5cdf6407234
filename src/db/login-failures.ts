// Failed logins in Postgres, so that every web node enforces the same limits (the port is
// LoginFailureStore in src/api/login-limit.ts, which decides; this only keeps the numbers). A
// failure updates the pair and both buckets in one statement, so concurrent failures on several
// nodes are all counted.
import type { Queryable } from './database.ts';

/** Mirrors src/api/login-limit.ts's shapes (storage does not import the API). */
interface Pair {
  failures: number;
  lastFailure: number;
}
interface Bucket {
  tokens: number;
  at: number;
}
interface BucketLimits {
  addressBurst: number;
  addressRefillMs: number;
  userBurst: number;
  userRefillMs: number;
}

/** Rows untouched this long are deleted: a day without failures forgets a pair's count. */
export const LOGIN_FAILURE_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Keys are text; a pair's is JSON, so no user or address can make another's key (Postgres text holds no NUL). */
const pairKey = (user: string, address: string): string => JSON.stringify([address, user]);

export class PostgresLoginFailures {
  private lastPrune = 0;

  constructor(private readonly db: Queryable) {}

  async read(user: string, address: string): Promise<{ pair?: Pair; address?: Bucket; user?: Bucket }> {
    const r = await this.db.query<{ kind: string; failures: number; tokens: number; at_ms: string }>(
      `SELECT kind, failures, tokens, at_ms FROM login_failures
        WHERE (kind = 'pair' AND key = $1) OR (kind = 'address' AND key = $2) OR (kind = 'user' AND key = $3)`,
      [pairKey(user, address), address, user],
    );
    const out: { pair?: Pair; address?: Bucket; user?: Bucket } = {};
    for (const row of r.rows) {
      const at = Number(row.at_ms);
      if (row.kind === 'pair') out.pair = { failures: row.failures, lastFailure: at };
      else if (row.kind === 'address') out.address = { tokens: row.tokens, at };
      else if (row.kind === 'user') out.user = { tokens: row.tokens, at };
    }
    return out;
  }

  async failed(user: string, address: string, now: number, o: BucketLimits): Promise<void> {
    // a bucket refills up to now (never above its size), then gives one token
    await this.db.query(
      `INSERT INTO login_failures AS f (kind, key, failures, tokens, at_ms)
       VALUES ('pair', $1, 1, 0, $4), ('address', $2, 0, $5::float8 - 1, $4), ('user', $3, 0, $7::float8 - 1, $4)
       ON CONFLICT (kind, key) DO UPDATE SET
         failures = f.failures + EXCLUDED.failures,
         tokens = CASE f.kind
                    WHEN 'address' THEN least($5::float8, f.tokens + greatest(0, $4 - f.at_ms) / $6::float8) - 1
                    WHEN 'user' THEN least($7::float8, f.tokens + greatest(0, $4 - f.at_ms) / $8::float8) - 1
                    ELSE 0 END,
         at_ms = $4`,
      [pairKey(user, address), address, user, now, o.addressBurst, o.addressRefillMs, o.userBurst, o.userRefillMs],
    );
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      await this.db.query('DELETE FROM login_failures WHERE at_ms < $1', [now - LOGIN_FAILURE_RETENTION_MS]);
    }
  }

  async succeeded(user: string, address: string): Promise<void> {
    await this.db.query(`DELETE FROM login_failures WHERE kind = 'pair' AND key = $1`, [pairKey(user, address)]);
  }
}
