// The web node's live log level (src/api/log-level.ts; Concourse's atc/api/loglevelserver): one
// row per level name, and a child logger made before a change follows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { concourseLevelOf, LiveLogLevel } from '../../src/api/log-level.ts';

for (const [pinoLevel, name] of [
  [10, 'debug'],
  [20, 'debug'],
  [30, 'info'],
  [40, 'info'],
  [50, 'error'],
  [60, 'fatal'],
] as const) {
  test(`pino level ${pinoLevel} reads as ${name}`, () => {
    assert.equal(concourseLevelOf(pinoLevel), name);
  });
}

test('an unknown initial level is refused by name', () => {
  assert.throws(() => new LiveLogLevel('loud'), /unknown log level "loud": one of trace, debug, info, warn, error, fatal/);
});

test('a child logger made before the change follows the new level', () => {
  const lines: string[] = [];
  const live = new LiveLogLevel('info');
  const root = pino(live.pinoOptions(), { write: (l: string) => void lines.push(JSON.parse(l).msg as string) });
  const child = root.child({ component: 'engine' });
  child.debug('hidden');
  child.info('shown');
  live.set('debug');
  child.debug('now shown');
  live.set('error');
  child.info('hidden again');
  child.error('error shown');
  assert.deepEqual(lines, ['shown', 'now shown', 'error shown']);
});
