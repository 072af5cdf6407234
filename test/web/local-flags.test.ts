// The local runtime's flags of `jetway web` (src/web/local-flags.ts): the proxies and the failed
// containers' retention, each mistake one line naming its flag, a proxy URL never echoed. One row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localRuntimeFlags, type LocalFlagValues } from '../../src/web/local-flags.ts';
import { FlagError } from '../../src/web/options.ts';

const rows: { name: string; flags: Omit<LocalFlagValues, 'runtime'> & { runtime?: string }; expected?: ReturnType<typeof localRuntimeFlags>; error?: string }[] = [
  { name: 'none given', flags: {}, expected: {} },
  {
    name: 'the three proxies',
    flags: { localHttpProxy: 'http://u:pw@proxy.internal:3128', localHttpsProxy: 'https://proxy.internal', localNoProxy: 'localhost, 127.0.0.1,.internal,10.0.0.0/8,*,[::1]:8080,host:5000' },
    expected: { localProxies: { http: 'http://u:pw@proxy.internal:3128', https: 'https://proxy.internal', noProxy: 'localhost,127.0.0.1,.internal,10.0.0.0/8,*,[::1]:8080,host:5000' } },
  },
  { name: 'a retention', flags: { localFailedContainerRetention: '30m' }, expected: { localFailedContainerRetentionMs: 30 * 60_000 } },
  { name: 'a retention of 0: removed at once', flags: { localFailedContainerRetention: '0' }, expected: { localFailedContainerRetentionMs: 0 } },
  { name: 'a retention that is no duration', flags: { localFailedContainerRetention: 'an hour' }, error: "--local-failed-container-retention: 'an hour' is not a duration (e.g. 30m, 1h; 0: not kept)" },
  { name: 'a negative retention', flags: { localFailedContainerRetention: '-1h' }, error: "--local-failed-container-retention: '-1h' is not a duration (e.g. 30m, 1h; 0: not kept)" },
  {
    name: 'a proxy without a scheme: refused, its password not echoed',
    flags: { localHttpProxy: 'u:s3cret@proxy:3128' },
    error: '--local-http-proxy: not an http or https URL (http://[user:password@]host[:port]; the value is not shown, it may hold a password)',
  },
  { name: 'a proxy that is no URL', flags: { localHttpsProxy: 'http://s3cret@' }, error: '--local-https-proxy: not a URL (http://[user:password@]host[:port]; the value is not shown, it may hold a password)' },
  {
    name: 'a proxy with a path',
    flags: { localHttpsProxy: 'http://u:s3cret@proxy/path' },
    error: '--local-https-proxy: a proxy URL has no path, query or fragment (http://[user:password@]host[:port]; the value is not shown, it may hold a password)',
  },
  {
    name: 'a no_proxy entry with a space inside',
    flags: { localNoProxy: 'localhost,bad host' },
    error: "--local-no-proxy: 'bad host' is not a host, domain, IP address or CIDR range (comma-separated, e.g. localhost,.internal,10.0.0.0/8)",
  },
  { name: 'an empty no_proxy entry', flags: { localNoProxy: 'a,,b' }, error: "--local-no-proxy: '' is not a host, domain, IP address or CIDR range (comma-separated, e.g. localhost,.internal,10.0.0.0/8)" },
  { name: 'a local flag with the Kubernetes runtime', flags: { runtime: 'kubernetes', localFailedContainerRetention: '1h' }, error: '--local-failed-container-retention: needs --runtime local' },
  { name: 'a proxy with the Kubernetes runtime', flags: { runtime: 'kubernetes', localHttpProxy: 'http://proxy:1' }, error: '--local-http-proxy: needs --runtime local' },
];
for (const row of rows) {
  test(`localRuntimeFlags: ${row.name}`, () => {
    const flags = { runtime: 'local', ...row.flags };
    if (row.error === undefined) {
      assert.deepEqual(localRuntimeFlags(flags), row.expected);
      return;
    }
    assert.throws(
      () => localRuntimeFlags(flags),
      (err: unknown) => err instanceof FlagError && err.message === row.error && !err.message.includes('s3cret'),
    );
  });
}
