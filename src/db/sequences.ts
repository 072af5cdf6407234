import type { Queryable } from './database.ts';

/**
 * After rows were inserted with explicit ids (fixture loaders), moves every identity sequence
 * past the largest id in use, so later inserts with default ids do not collide.
 */
export async function syncIdSequences(db: Queryable): Promise<void> {
  const cols = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND is_identity = 'YES'`,
  );
  for (const c of cols.rows) {
    await db.query(
      `SELECT setval(pg_get_serial_sequence($1, $2),
                     GREATEST((SELECT COALESCE(max(${c.column_name}), 0) FROM ${c.table_name}), 1),
                     (SELECT count(*) > 0 FROM ${c.table_name}))`,
      [c.table_name, c.column_name],
    );
  }
}
