// timestamptz parsing (src/db/timestamps.ts): the usual shape gives the instant pg's own parser
// gives, truncated to milliseconds; any other shape is the fallback's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamptz } from '../../src/db/timestamps.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();
const fallback = (text: string): unknown => ({ fallback: text });

const usual: [text: string, iso: string][] = [
  ['2026-12-04 17:50:12.123456+00', '2026-12-04T17:50:12.123Z'],
  ['2026-12-04 17:50:12+00', '2026-12-04T17:50:12.000Z'],
  ['2026-12-04 17:50:12.1+00', '2026-12-04T17:50:12.100Z'],
  ['2026-12-04 17:50:12.29+00', '2026-12-04T17:50:12.290Z'],
  ['2026-12-04 17:50:12.999999+00', '2026-12-04T17:50:12.999Z'],
  ['2026-12-04 23:30:00+05:30', '2026-12-04T18:00:00.000Z'],
  ['2026-12-04 01:00:00-03', '2026-12-04T04:00:00.000Z'],
  ['2024-02-29 00:00:00.5+00', '2024-02-29T00:00:00.500Z'],
  ['1970-01-01 00:00:00+00', '1970-01-01T00:00:00.000Z'],
];
for (const [text, iso] of usual) {
  test(`usual: ${text} is ${iso}`, () => {
    const got = parseTimestamptz(text, fallback);
    assert.ok(got instanceof Date);
    assert.equal(got.toISOString(), iso);
  });
}

const other = [
  'infinity',
  '-infinity',
  '0099-01-01 00:00:00+00',
  '2000-01-01 00:00:00+00 BC',
  '1900-01-01 00:00:00+00:19:32',
  '2026-12-04T17:50:12Z',
  '',
  '2026-12-04 17:50:12.+00',
  '2026-12-04 17:50:12.1234567+00',
  '2026-12-04 17:5x:12+00',
  '2026-12-04 17:50:12+0',
  '2026-12-04 17:50:12+00:3',
  '2026-12-04 17:50:12 +00',
  '12026-12-04 17:50:12+00',
];
for (const text of other) {
  test(`another shape goes to the fallback: ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseTimestamptz(text, fallback), { fallback: text });
  });
}

test('the same instant as pg\'s own parser for 2,000 random timestamps in several shapes', async () => {
  const pg = (await import('pg')).default;
  const theirs = pg.types.getTypeParser(1184, 'text') as (text: string) => Date;
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pad = (v: number, n: number): string => String(v).padStart(n, '0');
  for (let i = 0; i < 2_000; i++) {
    const fraction = rand(3) === 0 ? '' : `.${pad(rand(1_000_000), 6).slice(0, 1 + rand(6))}`;
    const zone = [`+${pad(rand(15), 2)}`, `-${pad(rand(13), 2)}`, `+${pad(rand(14), 2)}:${pad(rand(4) * 15, 2)}`][rand(3)];
    const text = `${pad(100 + rand(9_800), 4)}-${pad(1 + rand(12), 2)}-${pad(1 + rand(28), 2)} ${pad(rand(24), 2)}:${pad(rand(60), 2)}:${pad(rand(60), 2)}${fraction}${zone}`;
    const got = parseTimestamptz(text, () => undefined);
    assert.ok(got instanceof Date, text);
    assert.equal(got.getTime(), theirs(text).getTime(), text);
  }
});

test('what Postgres sends (several time zones) is the instant it stores, to the millisecond', async () => {
  const { db } = t;
  for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns']) {
    const r = await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL TimeZone = '${zone}'`);
      return tx.query<{ at: Date; ms: string }>(
        `SELECT at, floor(extract(epoch FROM at) * 1000)::text AS ms
           FROM unnest(ARRAY['2026-12-04 17:50:12.123456+00', '2024-02-29 00:00:00.5+00', '1970-01-01 00:00:00+00', now()::text]::timestamptz[]) AS at`,
      );
    });
    for (const row of r.rows) assert.equal(row.at.getTime(), Number(row.ms), `${zone}: ${row.at.toISOString()}`);
  }
});
