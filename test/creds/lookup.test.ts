// Concourse's Kubernetes credential manager rules, as tables: where `((name))` is looked for
// (pipeline-scoped Secret first, then team-scoped, in `<prefix><team>`), what a Secret is worth
// (`value` key or the whole map), fields, missing vars, one-off builds; and the per-build cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVarName } from '../../src/config/var-syntax.ts';
import type { CredentialScope } from '../../src/creds/credential-manager.ts';
import { CredentialsForbiddenError, KubernetesCredentialManager, type SecretReader } from '../../src/creds/kubernetes.ts';
import { DEFAULT_NAMESPACE_PREFIX, secretLookupOrder, secretValue, type SecretData, type SecretRef } from '../../src/creds/lookup.ts';

// the lookup order: <pipeline>.<name> then <name>, in <prefix><team>; one-off builds only <name>
const lookupCases: { prefix?: string; scope: CredentialScope; path: string; order: string[] }[] = [
  { scope: { team: 'main', pipeline: 'deploy' }, path: 'api-token', order: ['concourse-main/deploy.api-token', 'concourse-main/api-token'] },
  { scope: { team: 'main' }, path: 'api-token', order: ['concourse-main/api-token'] },
  { scope: { team: 'main', pipeline: '' }, path: 'api-token', order: ['concourse-main/api-token'] },
  { scope: { team: 'ops', pipeline: 'p' }, path: 'db', order: ['concourse-ops/p.db', 'concourse-ops/db'] },
  { prefix: 'ci-', scope: { team: 'main', pipeline: 'p' }, path: 'db', order: ['ci-main/p.db', 'ci-main/db'] },
  { prefix: '', scope: { team: 'main', pipeline: 'p' }, path: 'db', order: ['main/p.db', 'main/db'] },
  // a quoted path with a dot is one Secret name
  { scope: { team: 'main', pipeline: 'p' }, path: 'a.b', order: ['concourse-main/p.a.b', 'concourse-main/a.b'] },
  // names no Secret can have are never asked for (the API server could only say 404)
  { scope: { team: 'main', pipeline: 'my_pipeline' }, path: 'token', order: ['concourse-main/token'] },
  { scope: { team: 'main', pipeline: 'p' }, path: 'my_token', order: [] },
  { scope: { team: 'main', pipeline: 'p' }, path: 'a/b', order: [] },
  { scope: { team: 'main', pipeline: 'p' }, path: 'Token', order: [] },
  { scope: { team: 'Main_Team', pipeline: 'p' }, path: 'token', order: [] },
  { scope: { team: 'x'.repeat(60), pipeline: 'p' }, path: 'token', order: [] },
];
for (const c of lookupCases) {
  test(`lookup order of ((${c.path})) for ${JSON.stringify(c.scope)}${c.prefix !== undefined ? ` with prefix '${c.prefix}'` : ''}: ${c.order.join(', ') || 'none'}`, () => {
    const order = secretLookupOrder(c.prefix ?? DEFAULT_NAMESPACE_PREFIX, c.scope, c.path).map((r) => `${r.namespace}/${r.name}`);
    assert.deepEqual(order, c.order);
  });
}

// a Secret's value: its `value` key when it has one, else the whole data map
const valueCases: { data: SecretData; value: unknown }[] = [
  { data: { value: 's3cr3t' }, value: 's3cr3t' },
  { data: { value: 's3cr3t', other: 'ignored' }, value: 's3cr3t' },
  { data: { value: '' }, value: '' },
  { data: { user: 'app', password: 'pw' }, value: { user: 'app', password: 'pw' } },
  { data: {}, value: {} },
];
for (const c of valueCases) {
  test(`a Secret holding ${JSON.stringify(c.data)} is worth ${JSON.stringify(c.value)}`, () => {
    assert.deepEqual(secretValue(c.data), c.value);
  });
}

/** Secrets in memory, keyed `namespace/name`; every read is recorded. */
function memoryReader(secrets: Record<string, SecretData>): SecretReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(ref: SecretRef) {
      reads.push(`${ref.namespace}/${ref.name}`);
      await Promise.resolve();
      return secrets[`${ref.namespace}/${ref.name}`];
    },
  };
}

const CLUSTER: Record<string, SecretData> = {
  'concourse-main/api-token': { value: 'team-token' },
  'concourse-main/deploy.api-token': { value: 'pipeline-token' },
  'concourse-main/db': { user: 'app', password: 'db-pass' },
  'concourse-main/only-value': { value: 'plain', extra: 'x' },
  'concourse-main/deploy.empty': {},
  'concourse-main/empty': { value: 'team-empty' },
  'concourse-ops/api-token': { value: 'ops-token' },
  'ci-main/api-token': { value: 'prefixed-token' },
};

test('the manager over a SecretReader: scoping, value shapes, fields, missing, one-off builds', async () => {
  const cases: { scope: CredentialScope; v: string; value: unknown; reads: string[]; prefix?: string }[] = [
    // pipeline-scoped wins over team-scoped
    { scope: { team: 'main', pipeline: 'deploy' }, v: 'api-token', value: 'pipeline-token', reads: ['concourse-main/deploy.api-token'] },
    // another pipeline falls through to the team's
    { scope: { team: 'main', pipeline: 'build' }, v: 'api-token', value: 'team-token', reads: ['concourse-main/build.api-token', 'concourse-main/api-token'] },
    // one-off builds: only the team's
    { scope: { team: 'main' }, v: 'api-token', value: 'team-token', reads: ['concourse-main/api-token'] },
    // a map without `value`: the whole map, and its fields
    { scope: { team: 'main', pipeline: 'build' }, v: 'db', value: { user: 'app', password: 'db-pass' }, reads: ['concourse-main/build.db', 'concourse-main/db'] },
    { scope: { team: 'main', pipeline: 'build' }, v: 'db.password', value: 'db-pass', reads: ['concourse-main/build.db', 'concourse-main/db'] },
    { scope: { team: 'main', pipeline: 'build' }, v: 'db.nope', value: undefined, reads: ['concourse-main/build.db', 'concourse-main/db'] },
    // `value` wins over other keys; a string has no fields
    { scope: { team: 'main' }, v: 'only-value', value: 'plain', reads: ['concourse-main/only-value'] },
    { scope: { team: 'main' }, v: 'only-value.extra', value: undefined, reads: ['concourse-main/only-value'] },
    // the first Secret found decides, even when its field is missing (no fall-through to the team's)
    { scope: { team: 'main', pipeline: 'deploy' }, v: 'empty', value: {}, reads: ['concourse-main/deploy.empty'] },
    { scope: { team: 'main', pipeline: 'deploy' }, v: 'empty.value', value: undefined, reads: ['concourse-main/deploy.empty'] },
    // missing everywhere
    { scope: { team: 'main', pipeline: 'deploy' }, v: 'absent', value: undefined, reads: ['concourse-main/deploy.absent', 'concourse-main/absent'] },
    // teams are namespaces apart
    { scope: { team: 'ops', pipeline: 'deploy' }, v: 'api-token', value: 'ops-token', reads: ['concourse-ops/deploy.api-token', 'concourse-ops/api-token'] },
    { scope: { team: 'other' }, v: 'db.password', value: undefined, reads: ['concourse-other/db'] },
    // the prefix
    { prefix: 'ci-', scope: { team: 'main', pipeline: 'deploy' }, v: 'api-token', value: 'prefixed-token', reads: ['ci-main/deploy.api-token', 'ci-main/api-token'] },
    // a named var source is never the manager's; an impossible Secret name is not asked for
    { scope: { team: 'main' }, v: 'vault:api-token', value: undefined, reads: [] },
    { scope: { team: 'main' }, v: 'api_token', value: undefined, reads: [] },
  ];
  for (const c of cases) {
    const reader = memoryReader(CLUSTER);
    const manager = new KubernetesCredentialManager(reader, c.prefix);
    const value = await manager.forBuild(c.scope).lookup(parseVarName(c.v));
    assert.deepEqual(value, c.value, `${c.v} ${JSON.stringify(c.scope)}`);
    assert.deepEqual(reader.reads, c.reads, `reads for ${c.v} ${JSON.stringify(c.scope)}`);
  }
});

test('one read per Secret per build, also for concurrent lookups; another build reads again', async () => {
  const reader = memoryReader(CLUSTER);
  const manager = new KubernetesCredentialManager(reader);
  const build = manager.forBuild({ team: 'main', pipeline: 'deploy' });
  const names = ['db.user', 'db.password', 'db', 'api-token', 'api-token', 'absent', 'absent'];
  const values = await Promise.all(names.map((n) => build.lookup(parseVarName(n))));
  assert.deepEqual(values, ['app', 'db-pass', { user: 'app', password: 'db-pass' }, 'pipeline-token', 'pipeline-token', undefined, undefined]);
  await build.lookup(parseVarName('db.user'));
  assert.deepEqual(reader.reads.sort(), ['concourse-main/absent', 'concourse-main/db', 'concourse-main/deploy.absent', 'concourse-main/deploy.api-token', 'concourse-main/deploy.db']);
  await manager.forBuild({ team: 'main', pipeline: 'deploy' }).lookup(parseVarName('api-token'));
  assert.equal(reader.reads.filter((r) => r === 'concourse-main/deploy.api-token').length, 2);
});

test('a refused read rejects the lookup with the reader error and is not cached', async () => {
  let refuse = true;
  const reads: string[] = [];
  const reader: SecretReader = {
    async read(ref) {
      reads.push(ref.name);
      if (refuse) throw new CredentialsForbiddenError(ref);
      return { value: 'finally' };
    },
  };
  const build = new KubernetesCredentialManager(reader).forBuild({ team: 'main', pipeline: 'p' });
  await assert.rejects(build.lookup(parseVarName('token')), (err: unknown) => {
    assert.ok(err instanceof CredentialsForbiddenError);
    assert.match(err.message, /refused 'get' on 'secrets' in namespace 'concourse-main'/);
    assert.match(err.message, /deploy\/optional\/kubernetes-credentials\.yaml/);
    return true;
  });
  refuse = false;
  assert.equal(await build.lookup(parseVarName('token')), 'finally');
  assert.deepEqual(reads, ['p.token', 'p.token']);
});
