// Run-time ((var)) evaluation: local vars, var_sources, then the credential manager (an async
// lookup); types kept for whole vars; missing vars listed; secrets handed to the redactor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VarName } from '../../src/config/var-syntax.ts';
import { RunState } from '../../src/engine/run-state.ts';
import { createInterpolator, MissingVarsError, Redactor, VarSources, varBodies, type VarLookup } from '../../src/engine/vars.ts';

/** A credential manager stand-in: answers from a map, asynchronously, and records what was asked. */
function fakeCredentials(values: Record<string, unknown>, fail: Record<string, Error> = {}): VarLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async lookup(name: VarName) {
      asked.push(name.path);
      await Promise.resolve();
      if (fail[name.path]) throw fail[name.path];
      let value = values[name.path];
      for (const f of name.fields) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[f] : undefined;
      return value;
    },
  };
}

const SOURCES = [{ name: 'vault', type: 'dummy', config: { vars: { token: 'vault-token-1', nested: { deep: { key: 'deep-value' } }, port: 5432 } } }];

function setup(creds: Record<string, unknown> = {}, fail: Record<string, Error> = {}) {
  const credentials = fakeCredentials(creds, fail);
  const redactor = new Redactor();
  const interpolator = createInterpolator(new VarSources(SOURCES, credentials), redactor);
  const state = new RunState();
  return { credentials, redactor, interpolator, state };
}

test('evaluate resolves local vars, var sources and the credential manager, keeping whole-var types', async () => {
  const { interpolator, state, credentials } = setup({ 'api-token': 'k8s-token-9', db: { user: 'app', password: 'db-pass-7' }, count: 3 });
  state.setLocalVar('meta', { sha: 'abc123' });
  const value = {
    source: { token: '((vault:token))', deep: '((vault:nested.deep.key))', port: '((vault:port))' },
    params: ['((api-token))', 'user=((db.user)) pass=((db.password))', '((db))', '((count))', 'n=((count))'],
    local: '((.:meta.sha))',
    plain: 'no vars here',
    number: 7,
  };
  const out = await interpolator.evaluate(value, state);
  assert.deepEqual(out, {
    source: { token: 'vault-token-1', deep: 'deep-value', port: 5432 },
    params: ['k8s-token-9', 'user=app pass=db-pass-7', { user: 'app', password: 'db-pass-7' }, 3, 'n=3'],
    local: 'abc123',
    plain: 'no vars here',
    number: 7,
  });
  // `((src:path))` never reaches the credential manager; local vars neither
  assert.deepEqual(credentials.asked.sort(), ['api-token', 'count', 'db', 'db', 'db'].sort());
  // a copy: the plan value is untouched
  assert.equal(value.params[0], '((api-token))');
});

test('a missing var is listed by name, in order, wherever it was looked for', async () => {
  const { interpolator, state } = setup({ present: 'here-value' });
  state.setLocalVar('known', 'x');
  await assert.rejects(
    interpolator.evaluate({ a: '((absent))', b: 'x-((vault:nope))-y', c: ['((.:unknown))', '((present))', '((absent))', '((other:thing))', '((present.field))'] }, state),
    (err: unknown) => {
      assert.ok(err instanceof MissingVarsError);
      assert.deepEqual(err.names, ['absent', 'vault:nope', '.:unknown', 'other:thing', 'present.field']);
      assert.equal(err.message, 'undefined vars: absent, vault:nope, .:unknown, other:thing, present.field');
      return true;
    },
  );
});

test('without a credential manager, ((name)) is an undefined var', async () => {
  const interpolator = createInterpolator(new VarSources(SOURCES), new Redactor());
  await assert.rejects(interpolator.evaluate({ a: '((api-token))' }, new RunState()), { message: 'undefined vars: api-token' });
});

test('a lookup that fails fails the evaluation with its error (the first in order), not as a missing var', async () => {
  const { interpolator, state } = setup({ ok: 'fine-value' }, { denied: new Error('the Kubernetes API refused it'), later: new Error('second failure') });
  await assert.rejects(interpolator.evaluate({ a: '((ok))', b: '((denied))', c: '((later))', d: '((missing))' }, state), (err: unknown) => {
    assert.ok(!(err instanceof MissingVarsError));
    assert.equal((err as Error).message, 'the Kubernetes API refused it');
    return true;
  });
});

test('values from var sources and the credential manager are redacted; local vars are not', async () => {
  const { interpolator, state, redactor } = setup({ 'api-token': 'k8s-token-9', db: { password: 'db-pass-7', user: 'dbuser' } });
  state.setLocalVar('version', 'v1.2.3');
  await interpolator.evaluate({ a: '((api-token))', b: '((vault:token))', c: '((db))', d: '((.:version))' }, state);
  assert.equal(
    redactor.redact('k8s-token-9 vault-token-1 db-pass-7 dbuser v1.2.3'),
    '((redacted)) ((redacted)) ((redacted)) ((redacted)) v1.2.3',
  );
});

test('a whole map or list inside a larger string is an invalid interpolation naming the var', async () => {
  const { interpolator, state } = setup({ db: { password: 'db-pass-7' } });
  await assert.rejects(interpolator.evaluate({ a: 'x ((db)) y' }, state), (err: unknown) => {
    assert.match((err as Error).message, /invalid interpolation: \(\(db\)\) is not a string or number/);
    assert.doesNotMatch((err as Error).message, /db-pass-7/);
    return true;
  });
});

test('a value without vars asks nothing', async () => {
  const { interpolator, state, credentials } = setup({});
  assert.deepEqual(await interpolator.evaluate({ a: ['b', 1, null, { c: 'd' }] }, state), { a: ['b', 1, null, { c: 'd' }] });
  assert.equal(await interpolator.evaluate(undefined, state), undefined);
  assert.deepEqual(credentials.asked, []);
});

test('varBodies lists each var once, in order of appearance', () => {
  assert.deepEqual([...varBodies({ a: '((x)) and ((y.z))', b: ['((x))', { c: '((src:p.f))' }], d: 3, e: '(("quoted.path".f))' })], ['x', 'y.z', 'src:p.f', '"quoted.path".f']);
});
