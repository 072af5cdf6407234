// EXPLAIN of a statement as a web node runs it, for the benchmarks and the plan tests.
import type { Database } from './database.ts';

/** A bound value as Postgres reads it in text: arrays as array literals, objects as JSON. */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `{${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(',')}}`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of `text` with `values`, planned as the server plans it for a web
 * node: statements are prepared (database.ts, StatementNames) and after five executions Postgres
 * may keep a generic plan, made without the values. EXPLAIN of the text with its values shows a
 * custom plan instead, which hid a job's builds page walking every newer build (migration 0028).
 * So: PREPARE, EXECUTE six times (which also warms the pages), EXPLAIN the seventh EXECUTE.
 */
export async function explainPrepared(db: Database, text: string, values: readonly unknown[]): Promise<string> {
  const client = await db.pool.connect();
  try {
    const args = values.map((v) => (v === null || v === undefined ? 'NULL' : client.escapeLiteral(literal(v)))).join(', ');
    await client.query(`PREPARE jw_explained AS ${text}`);
    try {
      const execute = `EXECUTE jw_explained${args ? `(${args})` : ''}`;
      for (let i = 0; i < 6; i++) await client.query(execute);
      const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`);
      return r.rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.query('DEALLOCATE jw_explained');
    }
  } finally {
    client.release();
  }
}
