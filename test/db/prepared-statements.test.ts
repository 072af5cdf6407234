// Server-side prepared statements (src/db/database.ts StatementNames): parameterised SQL is
// parsed and planned once per connection (issue 23's API throughput), bounded, and can be turned
// off for a pooler that does not keep them (JETWAY_POSTGRES_PREPARED_STATEMENTS=off).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preparedStatementsFromEnv } from '../../src/db/connect.ts';
import { PoolDatabase, StatementNames } from '../../src/db/database.ts';
import { defaultLogger } from '../../src/log.ts';
import { useTestDatabase } from '../support/db.ts';

const handle = useTestDatabase();
const SQL = 'SELECT name FROM teams WHERE name = $1';

/** The statements prepared on the connection a transaction holds, after running `sql` on it. */
async function preparedAfter(db: PoolDatabase, sql: string, values?: unknown[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query(sql, values);
    await tx.query(sql, values);
    const rows = await tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
    return rows.rows.map((r) => r.statement);
  });
}

test('a parameterised statement is prepared on the server once and answers as before', async () => {
  const db = new PoolDatabase({ url: handle.url, logger: defaultLogger(), max: 1 });
  try {
    assert.deepEqual((await db.query(SQL, ['main'])).rows, [{ name: 'main' }]);
    assert.deepEqual(await preparedAfter(db, SQL, ['main']), [SQL]);
    assert.deepEqual((await db.query(SQL, ['nobody'])).rows, []);
  } finally {
    await db.close();
  }
});

test('a statement without parameters is not prepared (it may hold several statements)', async () => {
  const db = new PoolDatabase({ url: handle.url, logger: defaultLogger(), max: 1 });
  try {
    assert.deepEqual(await preparedAfter(db, "SELECT 1; SELECT name FROM teams WHERE name = 'main'"), []);
  } finally {
    await db.close();
  }
});

test('preparedStatements: false runs every statement unnamed', async () => {
  const db = new PoolDatabase({ url: handle.url, logger: defaultLogger(), max: 1, preparedStatements: false });
  try {
    assert.deepEqual(await preparedAfter(db, SQL, ['main']), []);
    assert.deepEqual((await db.query(SQL, ['main'])).rows, [{ name: 'main' }]);
  } finally {
    await db.close();
  }
});

test('StatementNames: one name per text, the same in every instance (every connection and node agrees)', () => {
  const a = new StatementNames(true).config(SQL, ['x']);
  const b = new StatementNames(true).config(SQL, ['y']);
  assert.ok(a.name?.startsWith('jw_'));
  assert.equal(a.name, b.name);
  assert.notEqual(new StatementNames(true).config(`${SQL} LIMIT 1`, ['x']).name, a.name);
  assert.deepEqual(b.values, ['y']);
});

test(`StatementNames: beyond ${StatementNames.MAX_PREPARED_TEXTS} distinct texts, statements run unnamed, and that is told once`, () => {
  const told: string[] = [];
  const names = new StatementNames(true, (text) => told.push(text));
  for (let i = 0; i < StatementNames.MAX_PREPARED_TEXTS; i++) assert.ok(names.config(`SELECT $1::int + ${i}`, [1]).name);
  assert.deepEqual(told, []);
  assert.equal(names.config('SELECT $1::int - 1', [1]).name, undefined);
  assert.equal(names.config('SELECT $1::int - 2', [1]).name, undefined);
  assert.deepEqual(told, ['SELECT $1::int - 1']);
  assert.ok(names.config('SELECT $1::int + 0', [1]).name, 'a text named before keeps its name');
});

for (const [value, expected] of [
  [undefined, true],
  ['', true],
  ['on', true],
  ['true', true],
  ['off', false],
  ['false', false],
] as const) {
  test(`JETWAY_POSTGRES_PREPARED_STATEMENTS=${value ?? '(unset)'} → ${expected ? 'on' : 'off'}`, () => {
    assert.equal(preparedStatementsFromEnv(value), expected);
  });
}

test('JETWAY_POSTGRES_PREPARED_STATEMENTS=yes is refused naming the variable and the value', () => {
  assert.throws(() => preparedStatementsFromEnv('yes'), /JETWAY_POSTGRES_PREPARED_STATEMENTS must be on or off, not 'yes'/);
});
