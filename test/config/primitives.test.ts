import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, globMatch, isValidGlob, checkIdentifier, repositoryProblem, tagProblem } from '../../src/config/index.ts';

test('Go durations', () => {
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', '10', '1d', 'never', '5 m', 'h']) assert.equal(parseDuration(bad), undefined, bad);
});

test('Go path.Match globs', () => {
  assert.ok(globMatch('unit-*', 'unit-a'));
  assert.ok(!globMatch('unit-*', 'unit/a'));
  assert.ok(globMatch('j?b', 'job'));
  assert.ok(globMatch('[a-c]x', 'bx'));
  assert.ok(!globMatch('[!a-c]x', 'bx'));
  assert.ok(globMatch('a\\*', 'a*'));
  assert.ok(!globMatch('a\\*', 'ab'));
  assert.ok(!isValidGlob('['));
  assert.ok(!isValidGlob('a\\'));
});

test('identifiers', () => {
  assert.equal(checkIdentifier('build-1.x_y'), undefined);
  assert.equal(checkIdentifier('ünïcode'), undefined);
  assert.equal(checkIdentifier('')?.severity, 'error');
  assert.equal(checkIdentifier('Build')?.message, "'Build' is not a valid identifier: must start with a lowercase letter or a number");
  assert.equal(checkIdentifier('a/b')?.message, "'a/b' is not a valid identifier: illegal character '/'");
  assert.equal(checkIdentifier('42')?.message, "'42' is not a valid identifier: cannot be just numbers");
});

test('image references (decision 9)', () => {
  assert.equal(repositoryProblem('127.0.0.1:5000/team/app'), undefined);
  assert.equal(repositoryProblem('localhost:5000/app'), undefined);
  assert.equal(repositoryProblem('((registry))/team/app'), undefined);
  assert.match(repositoryProblem('alpine:3.19') ?? '', /carries a tag; write repository: alpine and tag: "3.19"/);
  assert.match(repositoryProblem('127.0.0.1:5000/app:v1') ?? '', /write repository: 127\.0\.0\.1:5000\/app and tag: "v1"/);
  assert.match(repositoryProblem('app@sha256:0f') ?? '', /carries a digest/);
  assert.equal(tagProblem('3.19'), undefined);
  assert.match(tagProblem(3.19) ?? '', /tag must be a string, got a number/);
});
