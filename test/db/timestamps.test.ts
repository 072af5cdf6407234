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

const other = ['infinity', '-infinity', '0099-01-01 00:00:00+00', '2000-01-01 00:00:00+00 BC', '1900-01-01 00:00:00+00:19:32', '2026-12-04T17:50:12Z', ''];
for (const text of other) {
  test(`another shape goes to the fallback: ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseTimestamptz(text, fallback), { fallback: text });
  });
}

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
