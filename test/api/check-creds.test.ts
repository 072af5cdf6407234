// `PUT …/config?check_creds=true` with a credential manager (`jetway web --kubernetes-credentials`):
// `((name))` must be in the manager, for the pipeline's team and name, as Concourse's check_creds
// asks it; `((src:x))` needs a var source; a refusal is reported; values never come back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialsForbiddenError, KubernetesCredentialManager } from '../../src/creds/kubernetes.ts';
import type { SecretData, SecretRef } from '../../src/creds/lookup.ts';
import { startApi, type TestApi } from './helpers.ts';

const SECRETS: Record<string, SecretData> = {
  'concourse-main/api-token': { value: 'team-secret-value' },
  'concourse-main/deploy.db': { password: 'pipeline-db-secret' },
};
const reads: string[] = [];
let api: TestApi;

before(async () => {
  const manager = new KubernetesCredentialManager({
    async read(ref: SecretRef) {
      reads.push(`${ref.namespace}/${ref.name}`);
      if (ref.name.startsWith('forbidden')) throw new CredentialsForbiddenError(ref);
      return SECRETS[`${ref.namespace}/${ref.name}`];
    },
  });
  api = await startApi({ credentials: manager });
});
after(async () => {
  await api.close();
});

const put = (pipeline: string, text: string) =>
  api.app.inject({ method: 'PUT', url: `/api/v1/teams/main/pipelines/${pipeline}/config?check_creds=true`, headers: { ...api.auth(), 'content-type': 'application/x-yaml' }, payload: text });

const job = (params: Record<string, string>): string => `
var_sources:
- name: vault
  type: dummy
  config: {vars: {x: 1}}
jobs:
- name: j
  plan:
  - task: t
    config:
      platform: linux
      params: ${JSON.stringify(params)}
      run: {path: "true"}
`;

test('vars the credential manager has pass, scoped to the pipeline', async () => {
  const res = await put('deploy', job({ A: '((api-token))', B: '((db.password))', C: '((vault:x))' }));
  assert.equal(res.statusCode, 201, res.body);
  assert.ok(reads.includes('concourse-main/deploy.api-token') && reads.includes('concourse-main/api-token') && reads.includes('concourse-main/deploy.db'), reads.join(' '));
  assert.doesNotMatch(res.body, /secret-value|db-secret/);
});

test('vars nothing resolves are refused naming them; a refusal names the namespace; no value comes back', async () => {
  // ((db.password)) exists only for the pipeline `deploy`
  const res = await put('other', job({ A: '((api-token))', B: '((db.password))', C: '((nowhere))', D: '((forbidden-one))', E: '((elsewhere:x))' }));
  assert.equal(res.statusCode, 400, res.body);
  const errors = (res.json() as { errors: string[] }).errors;
  assert.deepEqual(errors.slice(0, 2), [
    "credential 'db.password' cannot be resolved: the kubernetes credential manager does not have it and no var source provides it",
    "credential 'nowhere' cannot be resolved: the kubernetes credential manager does not have it and no var source provides it",
  ]);
  assert.match(errors[2] ?? '', /^credential 'forbidden-one' cannot be resolved: the Kubernetes API refused 'get' on 'secrets' in namespace 'concourse-main'/);
  assert.equal(errors[3], "credential 'elsewhere:x' cannot be resolved: the pipeline has no var source 'elsewhere'");
  assert.equal(errors.length, 4);
  assert.doesNotMatch(res.body, /team-secret-value/);
});
