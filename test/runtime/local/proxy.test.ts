// The operator's proxies in every local step's env (src/runtime/local/proxy.ts): one row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyEnv, type LocalProxies } from '../../../src/runtime/local/proxy.ts';

const rows: { name: string; proxies: LocalProxies | undefined; env: Record<string, string> }[] = [
  { name: 'none given: nothing', proxies: undefined, env: {} },
  { name: 'empty values: nothing', proxies: { http: '', https: '', noProxy: '' }, env: {} },
  { name: 'http only: both cases', proxies: { http: 'http://proxy:3128' }, env: { http_proxy: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128' } },
  {
    name: 'all three, both cases, the values as given (a password kept)',
    proxies: { http: 'http://u:p@proxy:3128', https: 'http://proxy:3129', noProxy: 'localhost,.internal' },
    env: {
      http_proxy: 'http://u:p@proxy:3128',
      HTTP_PROXY: 'http://u:p@proxy:3128',
      https_proxy: 'http://proxy:3129',
      HTTPS_PROXY: 'http://proxy:3129',
      no_proxy: 'localhost,.internal',
      NO_PROXY: 'localhost,.internal',
    },
  },
];
for (const row of rows) test(`proxyEnv: ${row.name}`, () => assert.deepEqual(proxyEnv(row.proxies), row.env));
