import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPipeline, lookupVar, mergeVars, parseStringVar, parseYamlVar, parseVarName } from '../../src/config/index.ts';

const BASE = `resources:
- name: repo
  type: mock
  source:
    whole: ((obj))
    count: ((n))
    url: https://((host)):((port))/x
    keep: ((unknown))
    local: ((.:local))
    nested: ((creds.user))
    quoted: (("a.b".c))
    sourced: ((vault:secret))
  check_every: ((interval))
jobs:
- name: j
  plan:
  - get: repo
    trigger: ((trig))
  - put: repo
    attempts: ((n))
`;

test('whole-value vars keep their type; embedded vars become text; unknown vars stay in place', () => {
  const vars = { obj: { a: [1, true] }, n: 3, host: 'h', port: 8080, creds: { user: 'bob' }, 'a.b': { c: 'q' } };
  const r = loadPipeline(BASE, { vars });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config?.resources?.[0]?.source, {
    whole: { a: [1, true] },
    count: 3,
    url: 'https://h:8080/x',
    keep: '((unknown))',
    local: '((.:local))',
    nested: 'bob',
    quoted: 'q',
    sourced: '((vault:secret))',
  });
  // unresolved vars in typed positions are accepted as they are
  assert.equal(r.config?.resources?.[0]?.check_every, '((interval))');
  assert.equal(r.config?.jobs?.[0]?.plan?.[0]?.trigger, '((trig))');
  assert.equal(r.config?.jobs?.[0]?.plan?.[1]?.attempts, 3);
  assert.deepEqual(r.unresolvedVars, ['unknown', '.:local', 'vault:secret', 'interval', 'trig']);
});

test('a typed var that resolves to the wrong type is a schema error at the var position', () => {
  const r = loadPipeline(BASE, { vars: { trig: 'maybe', n: 1 } });
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`),
    ['18:14 jobs.j.plan.do[0].get(repo).trigger: expected boolean, got string "maybe"'],
  );
});

test('a map or list inside a larger string is an invalid interpolation, located', () => {
  const r = loadPipeline(BASE, { vars: { host: { x: 1 } } });
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`),
    ['7:10 resources.repo.source.url: invalid interpolation: ((host)) is a map; only strings and numbers can be part of a string'],
  );
});

test('--strict: every unresolved var is an error at its position, except local vars', () => {
  const r = loadPipeline(BASE, { strict: true, vars: { obj: {}, n: 1, host: 'h', port: 1, creds: { user: 'u' }, 'a.b': { c: 'c' } } });
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.column} ${e.message}`),
    ['8:11 undefined var ((unknown))', '12:14 undefined var ((vault:secret))', '13:16 undefined var ((interval))', '18:14 undefined var ((trig))'],
  );
  assert.equal(r.config, undefined);
});

test('interpolation keeps line numbers of everything after a multi-line value', () => {
  const r = loadPipeline(`resources:\n- name: repo\n  type: mock\n  source: ((big))\njobs:\n- name: j\n  plan: [{get: nope}]\n`, {
    vars: { big: { a: 1, b: { c: [1, 2, 3] } } },
  });
  assert.deepEqual(r.errors.map((e) => e.line), [2, 7]);
});

test('var names: sources, fields, quoted segments, local vars', () => {
  assert.deepEqual(parseVarName('src:path.field.sub'), { source: 'src', path: 'path', fields: ['field', 'sub'] });
  assert.deepEqual(parseVarName('"a.b".c'), { path: 'a.b', fields: ['c'] });
  assert.deepEqual(parseVarName('.:local'), { source: '.', path: 'local', fields: [] });
  assert.deepEqual(parseVarName('"x:y".z'), { path: 'x:y', fields: ['z'] });
  assert.equal(lookupVar({ a: { b: 1 } }, 'a.b'), 1);
  assert.equal(typeof lookupVar({ a: 1 }, 'src:a'), 'symbol');
});

test('var flags: -v is a string, -y is typed YAML, -l files in order, -v/-y win', () => {
  assert.deepEqual(parseStringVar('k=v=w'), ['k', 'v=w']);
  assert.equal(parseStringVar('novalue'), undefined);
  assert.equal(parseStringVar('=x'), undefined);
  assert.deepEqual(parseYamlVar('k={a: [1, 2]}'), ['k', { a: [1, 2] }]);
  assert.deepEqual(parseYamlVar('n=3.19'), ['n', 3.19]);
  assert.deepEqual(
    mergeVars({ files: [{ a: 1, b: 1, c: 1 }, { a: 2, b: 2 }], yaml: [['b', 3]], strings: [['c', 'x']] }),
    { a: 2, b: 3, c: 'x' },
  );
});
