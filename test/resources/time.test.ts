import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatRfc3339, parseTimeOfDay, timeResource as time } from '../../src/resources/time/index.ts';
import { capture, runResource, tempDir } from './helpers.ts';

/** A context whose clock is fixed at `iso`. */
function at(iso: string) {
  return capture({ now: () => new Date(iso) }).ctx;
}

describe('time formatting and parsing', () => {
  it('formats RFC 3339 in the location, with DST-aware offsets', () => {
    const ms = Date.parse('2024-01-15T12:00:00Z');
    assert.equal(formatRfc3339(ms, 'UTC'), '2024-01-15T12:00:00Z');
    assert.equal(formatRfc3339(ms, 'America/New_York'), '2024-01-15T07:00:00-05:00');
    assert.equal(formatRfc3339(Date.parse('2024-07-15T12:00:00Z'), 'America/New_York'), '2024-07-15T08:00:00-04:00');
    assert.equal(formatRfc3339(Date.parse('2024-07-15T12:00:00.250Z'), 'Asia/Kolkata'), '2024-07-15T17:30:00.25+05:30');
  });

  it('parses times of day in every accepted format (offsets converted to UTC)', () => {
    assert.equal(parseTimeOfDay('3:04 PM', 'start'), 15 * 60 + 4);
    assert.equal(parseTimeOfDay('3PM', 'start'), 15 * 60);
    assert.equal(parseTimeOfDay('3 PM', 'start'), 15 * 60);
    assert.equal(parseTimeOfDay('12 AM', 'start'), 0);
    assert.equal(parseTimeOfDay('15:04', 'start'), 15 * 60 + 4);
    assert.equal(parseTimeOfDay('1504', 'start'), 15 * 60 + 4);
    assert.equal(parseTimeOfDay('3 PM -0500', 'start'), 20 * 60);
    assert.equal(parseTimeOfDay('1:30 AM +0200', 'start'), 23 * 60 + 30);
    assert.throws(() => parseTimeOfDay('25:00', 'stop'), /invalid source.stop: invalid time format/);
  });
});

describe('time check', () => {
  it('first check emits now', async () => {
    assert.deepEqual(await time.check({ source: { interval: '1h' } }, at('2024-05-01T10:00:00Z')), [{ time: '2024-05-01T10:00:00Z' }]);
    assert.deepEqual(await time.check({ source: {} }, at('2024-05-01T10:00:00Z')), [{ time: '2024-05-01T10:00:00Z' }]);
  });

  it('interval: a new version once the interval has passed since the previous one', async () => {
    const prev = { time: '2024-05-01T10:00:00Z' };
    assert.deepEqual(await time.check({ source: { interval: '1h' }, version: prev }, at('2024-05-01T10:59:59Z')), [prev]);
    assert.deepEqual(await time.check({ source: { interval: '1h' }, version: prev }, at('2024-05-01T11:00:00Z')), [prev, { time: '2024-05-01T11:00:00Z' }]);
    assert.deepEqual(await time.check({ source: { interval: '1m30s' }, version: prev }, at('2024-05-01T10:01:31Z')), [prev, { time: '2024-05-01T10:01:31Z' }]);
  });

  it('without interval or window, nothing new after the first version', async () => {
    const prev = { time: '2024-05-01T10:00:00Z' };
    assert.deepEqual(await time.check({ source: {}, version: prev }, at('2024-06-01T10:00:00Z')), [prev]);
  });

  it('start/stop window in a location: once per window, only inside it', async () => {
    const source = { start: '9:00 AM', stop: '5:00 PM', location: 'America/New_York' };
    // 08:00 in New York: before the window.
    assert.deepEqual(await time.check({ source }, at('2024-05-01T12:00:00Z')), []);
    // 10:00 in New York: inside, first check.
    assert.deepEqual(await time.check({ source }, at('2024-05-01T14:00:00Z')), [{ time: '2024-05-01T10:00:00-04:00' }]);
    // A version already in today's window: nothing new.
    const today = { time: '2024-05-01T10:00:00-04:00' };
    assert.deepEqual(await time.check({ source, version: today }, at('2024-05-01T18:00:00Z')), [today]);
    // After the window closes (17:30 New York): nothing.
    const yesterday = { time: '2024-04-30T10:00:00-04:00' };
    assert.deepEqual(await time.check({ source, version: yesterday }, at('2024-05-01T21:30:00Z')), [yesterday]);
    // Next day inside the window: a new version.
    assert.deepEqual(await time.check({ source, version: yesterday }, at('2024-05-01T13:05:00Z')), [yesterday, { time: '2024-05-01T09:05:00-04:00' }]);
  });

  it('a window across midnight', async () => {
    const source = { start: '22:00', stop: '02:00' };
    assert.deepEqual(await time.check({ source }, at('2024-05-02T01:00:00Z')), [{ time: '2024-05-02T01:00:00Z' }]);
    assert.deepEqual(await time.check({ source }, at('2024-05-02T03:00:00Z')), []);
    assert.deepEqual(await time.check({ source }, at('2024-05-01T23:00:00Z')), [{ time: '2024-05-01T23:00:00Z' }]);
  });

  it('interval inside a window', async () => {
    const source = { interval: '1h', start: '09:00', stop: '17:00' };
    const prev = { time: '2024-05-01T10:00:00Z' };
    assert.deepEqual(await time.check({ source, version: prev }, at('2024-05-01T10:30:00Z')), [prev]);
    assert.deepEqual(await time.check({ source, version: prev }, at('2024-05-01T11:00:00Z')), [prev, { time: '2024-05-01T11:00:00Z' }]);
    assert.deepEqual(await time.check({ source, version: prev }, at('2024-05-01T18:00:00Z')), [prev]);
  });

  it('days are evaluated in the location', async () => {
    const source = { days: ['Saturday', 'sun'], location: 'America/New_York' };
    // Wednesday.
    assert.deepEqual(await time.check({ source }, at('2024-05-01T12:00:00Z')), []);
    // Saturday 02:00 UTC is still Friday in New York.
    assert.deepEqual(await time.check({ source }, at('2024-05-04T02:00:00Z')), []);
    // Saturday 12:00 UTC is Saturday in New York.
    assert.deepEqual(await time.check({ source }, at('2024-05-04T12:00:00Z')), [{ time: '2024-05-04T08:00:00-04:00' }]);
  });

  it('initial_version emits now on a first check even outside the window', async () => {
    const source = { start: '09:00', stop: '10:00', initial_version: true };
    assert.deepEqual(await time.check({ source }, at('2024-05-01T12:00:00Z')), [{ time: '2024-05-01T12:00:00Z' }]);
  });

  it('start_after holds versions back until the given local time', async () => {
    const source = { interval: '1h', start_after: '2024-05-02T00:00', location: 'Europe/Berlin' };
    assert.deepEqual(await time.check({ source }, at('2024-05-01T21:00:00Z')), []);
    assert.deepEqual(await time.check({ source }, at('2024-05-01T22:30:00Z')), [{ time: '2024-05-02T00:30:00+02:00' }]);
  });

  it('rejects invalid sources readably', async () => {
    const ctx = at('2024-05-01T12:00:00Z');
    await assert.rejects(time.check({ source: { start: '9AM' } }, ctx), /must configure 'stop' if 'start' is set/);
    await assert.rejects(time.check({ source: { location: 'Mars/Olympus' } }, ctx), /unknown time zone 'Mars\/Olympus'/);
    await assert.rejects(time.check({ source: { interval: 'often' } }, ctx), /invalid source.interval/);
    await assert.rejects(time.check({ source: { days: ['Funday'] } }, ctx), /unknown weekday: Funday/);
  });
});

describe('time in/out', () => {
  it('in writes ./timestamp and ./input and returns the version', async () => {
    const dir = tempDir();
    const req = { source: { interval: '1h' }, version: { time: '2024-05-01T10:00:00Z' }, params: {} };
    const result = await time.in(req, dir, at('2024-05-01T12:00:00Z'));
    assert.deepEqual(result, { version: { time: '2024-05-01T10:00:00Z' }, metadata: [] });
    assert.equal(readFileSync(join(dir, 'timestamp'), 'utf8'), '2024-05-01T10:00:00Z');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'input'), 'utf8')), req);
  });

  it('out emits the current time in the location', async () => {
    const result = await time.out({ source: { location: 'Europe/Berlin' } }, tempDir(), at('2024-01-10T08:00:00Z'));
    assert.deepEqual(result, { version: { time: '2024-01-10T09:00:00+01:00' }, metadata: [] });
  });
});

describe('time through cli.ts (a real process)', () => {
  it('check → in → out with a fixed clock', async () => {
    const env = { JETWAY_RESOURCE_NOW: '2024-05-01T11:00:00Z' };
    const source = { interval: '1h' };
    const check = await runResource('time', 'check', { source, version: { time: '2024-05-01T10:00:00Z' } }, { env });
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(check.json(), [{ time: '2024-05-01T10:00:00Z' }, { time: '2024-05-01T11:00:00Z' }]);

    const dir = tempDir();
    const got = await runResource('time', 'in', { source, version: { time: '2024-05-01T11:00:00Z' } }, { dir, env });
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.json(), { version: { time: '2024-05-01T11:00:00Z' }, metadata: [] });
    assert.equal(readFileSync(join(dir, 'timestamp'), 'utf8'), '2024-05-01T11:00:00Z');

    const put = await runResource('time', 'out', { source, params: {} }, { dir, env });
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(put.json(), { version: { time: '2024-05-01T11:00:00Z' }, metadata: [] });
  });

  it('a failing check exits 1 with the reason on stderr', async () => {
    const result = await runResource('time', 'check', { source: { stop: '10:00' } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), "must configure 'start' if 'stop' is set");
  });
});
