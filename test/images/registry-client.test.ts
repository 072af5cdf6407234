// The registry client against a real registry (Debian's docker-registry, distribution 2.8), with
// and without htpasswd (Basic) auth, and the Bearer token flow against a small in-test server that
// follows the distribution spec's challenge/response (the real registry's token auth needs an
// external token server with a certificate chain).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MANIFEST_ACCEPT, MEDIA_TYPES, sha256Digest } from '../../src/images/oci.ts';
import { RegistryClient, RegistryError, repositoryRef, type RepositoryRef } from '../../src/images/registry-client.ts';
import { buildTestImage, pushTestImage, startRegistry, type TestRegistry } from '../support/registry.ts';

const image = buildTestImage({ layers: [[{ type: 'file', path: 'hello.txt', content: 'hello\n' }]] });

describe('registry client, anonymous registry', () => {
  let registry: TestRegistry;
  let repo: RepositoryRef;
  const client = new RegistryClient();
  before(async () => {
    registry = await startRegistry();
    repo = repositoryRef(`${registry.host}/team/app`);
  });
  after(async () => registry?.stop());

  it('resolves a tag to the digest the push returned', async () => {
    const pushed = await pushTestImage(client, repo, 'v1', image);
    assert.equal(pushed, image.manifestDigest);
    const resolved = await client.resolveDigest({ ...repo, reference: 'v1' });
    assert.equal(resolved.digest, pushed);
    assert.equal(resolved.mediaType, MEDIA_TYPES.ociManifest);
    const manifest = await client.getManifest({ ...repo, reference: pushed });
    assert.equal(sha256Digest(manifest.body), pushed);
  });

  it('streams blobs and lists tags', async () => {
    await pushTestImage(client, repo, 'v2', image);
    const layer = image.layers[0];
    assert.ok(layer);
    const chunks: Buffer[] = [];
    for await (const chunk of await client.getBlob(repo, layer.descriptor.digest)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), layer.data);
    assert.deepEqual((await client.listTags(repo)).sort(), ['v1', 'v2']);
  });

  it('uploads in chunks', async () => {
    const data = randomBytes(10_000);
    const pushed = await client.pushBlob(repo, data, undefined, { chunkSize: 3000 });
    assert.equal(pushed.digest, sha256Digest(data));
    assert.equal(pushed.uploaded, true);
    assert.equal(await client.blobExists(repo, pushed.digest), true);
    const again = await client.pushBlob(repo, data);
    assert.equal(again.uploaded, false);
  });

  it('names the registry, the repository and the status of an unknown tag', async () => {
    await assert.rejects(client.resolveDigest({ ...repo, reference: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 404);
      assert.match(err.message, new RegExp(`registry ${registry.host}, repository team/app: .*404`));
      return true;
    });
  });
});

describe('registry client, htpasswd (Basic) registry', () => {
  const credentials = { username: 'jetway', password: `s3cret-${randomBytes(6).toString('hex')}` };
  let registry: TestRegistry;
  let repo: RepositoryRef;
  before(async () => {
    registry = await startRegistry({ htpasswd: credentials });
    repo = repositoryRef(`${registry.host}/private/app`);
  });
  after(async () => registry?.stop());

  it('pushes and resolves with the credentials', async () => {
    const client = new RegistryClient();
    const pushed = await pushTestImage(client, repo, 'v1', image, credentials);
    assert.equal((await client.resolveDigest({ ...repo, reference: 'v1' }, credentials)).digest, pushed);
    assert.deepEqual(await client.listTags(repo, credentials), ['v1']);
  });

  it('wrong credentials: an error naming the registry and the 401, without the password', async () => {
    const wrong = { username: 'jetway', password: `wrong-${randomBytes(6).toString('hex')}` };
    const err = await new RegistryClient().resolveDigest({ ...repo, reference: 'v1' }, wrong).then(
      () => assert.fail('resolved with a wrong password'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RegistryError);
    assert.equal(err.status, 401);
    assert.equal(err.registry, registry.host);
    assert.match(err.message, new RegExp(`registry ${registry.host}, repository private/app: HEAD manifest v1: 401 .*credentials were refused`));
    const everything = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)} ${String(err.cause ?? '')}`;
    assert.ok(!everything.includes(wrong.password), 'the password leaked');
    assert.ok(!everything.includes(Buffer.from(`${wrong.username}:${wrong.password}`).toString('base64')), 'the Basic header leaked');
  });

  it('no credentials: a 401 that says credentials are wanted', async () => {
    await assert.rejects(new RegistryClient().resolveDigest({ ...repo, reference: 'v1' }), /401 .*wants credentials/);
  });
});

// --- Bearer flow against a spec-following fake ---

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  accept: string | undefined;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

describe('registry client, Bearer token flow', () => {
  const credentials = { username: 'robot', password: `pw-${randomBytes(6).toString('hex')}` };
  const manifest = image.manifest;
  const digest = image.manifestDigest;
  const blob = Buffer.from('blob content');
  const blobDigest = sha256Digest(blob);
  const tamperedDigest = sha256Digest('the content the digest was made from');
  let seen: Seen[] = [];
  let tokensIssued = 0;
  let port = 0;
  let storagePort = 0;
  let storageSeen: Seen[] = [];
  const validTokens = new Set<string>();
  let server: Server;
  let storage: Server;

  before(async () => {
    storage = createServer((req, res) => {
      storageSeen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, accept: undefined });
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(blob);
    });
    storagePort = await listen(storage);
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      seen.push({ method: req.method ?? '', url: url.pathname + url.search, authorization: req.headers.authorization, accept: req.headers.accept });
      if (url.pathname === '/token') {
        const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected || url.searchParams.get('service') !== 'fake-registry') {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
          return;
        }
        const token = `tok-${++tokensIssued}-${url.searchParams.get('scope')}`;
        validTokens.add(token);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !validTokens.has(auth.slice(7))) {
        res
          .writeHead(401, {
            'Content-Type': 'application/json',
            'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake-registry",scope="repository:team/app:pull"`,
          })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      if (url.pathname === '/v2/team/app/manifests/v1' || url.pathname === '/v2/team/app/manifests/nodigest') {
        const headers: Record<string, string | number> = { 'Content-Type': MEDIA_TYPES.ociManifest, 'Content-Length': manifest.length };
        if (url.pathname.endsWith('/v1')) headers['Docker-Content-Digest'] = digest;
        res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : manifest);
        return;
      }
      if (url.pathname === `/v2/team/app/blobs/${blobDigest}`) {
        // blobs live in "storage" on another origin, as with S3-backed registries
        res.writeHead(307, { Location: `http://localhost:${storagePort}/bucket/blob?sig=1` }).end();
        return;
      }
      if (url.pathname === `/v2/team/app/blobs/${tamperedDigest}`) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end('tampered content');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    });
    port = await listen(server);
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    await new Promise((r) => storage?.close(r));
  });

  it('answers the challenge with a token, caches it, and sends the manifest media types', async () => {
    seen = [];
    const client = new RegistryClient();
    const repo = repositoryRef(`127.0.0.1:${port}/team/app`);
    const first = await client.resolveDigest({ ...repo, reference: 'v1' }, credentials);
    assert.equal(first.digest, digest);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url.split('?')[0]}`),
      ['HEAD /v2/team/app/manifests/v1', 'GET /token', 'HEAD /v2/team/app/manifests/v1'],
    );
    assert.equal(new URL(`http://x${seen[1]?.url}`).searchParams.get('scope'), 'repository:team/app:pull');
    assert.equal(seen[0]?.accept, MANIFEST_ACCEPT);
    for (const type of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]) {
      assert.ok(seen[0]?.accept?.includes(type), type);
    }

    seen = [];
    const second = await client.resolveDigest({ ...repo, reference: 'v1' }, credentials);
    assert.equal(second.digest, digest);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['HEAD /v2/team/app/manifests/v1'], 'a warm resolve is ONE request');
    assert.equal(tokensIssued, 1);
  });

  it('falls back to GET when HEAD gives no Docker-Content-Digest', async () => {
    const client = new RegistryClient();
    const repo = repositoryRef(`127.0.0.1:${port}/team/app`);
    await client.resolveDigest({ ...repo, reference: 'v1' }, credentials); // warm the token
    seen = [];
    const resolved = await client.resolveDigest({ ...repo, reference: 'nodigest' }, credentials);
    assert.equal(resolved.digest, digest);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['HEAD /v2/team/app/manifests/nodigest', 'GET /v2/team/app/manifests/nodigest']);
  });

  it('never sends the token to another origin on a redirect', async () => {
    storageSeen = [];
    const client = new RegistryClient();
    const repo = repositoryRef(`127.0.0.1:${port}/team/app`);
    const chunks: Buffer[] = [];
    for await (const chunk of await client.getBlob(repo, blobDigest, credentials)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), blob);
    assert.equal(storageSeen.length, 1);
    assert.equal(storageSeen[0]?.authorization, undefined);
  });

  it('a refused token request names the registry and the 401, without the password', async () => {
    const wrong = { username: 'robot', password: `nope-${randomBytes(6).toString('hex')}` };
    const repo = repositoryRef(`127.0.0.1:${port}/team/app`);
    const err = await new RegistryClient().resolveDigest({ ...repo, reference: 'v1' }, wrong).then(
      () => assert.fail('resolved with a wrong password'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RegistryError);
    assert.equal(err.status, 401);
    assert.match(err.message, new RegExp(`registry 127.0.0.1:${port}, repository team/app: token request .*401.*bad credentials`));
    assert.ok(!`${err.message} ${err.stack}`.includes(wrong.password));
  });

  it('fails a blob whose content does not match its digest', async () => {
    const client = new RegistryClient();
    const repo = repositoryRef(`127.0.0.1:${port}/team/app`);
    const stream = await client.getBlob(repo, tamperedDigest, credentials);
    await assert.rejects(
      (async () => {
        for await (const _chunk of stream) {
          // drain
        }
      })(),
      (e: unknown) => e instanceof RegistryError && /hashes to sha256:[0-9a-f]{64}, not sha256:/.test(e.message),
    );
  });
});

describe('registry client, real registry with token (Bearer) auth', () => {
  const credentials = { username: 'robot', password: `tok-pw-${randomBytes(6).toString('hex')}` };
  let registry: TestRegistry & { tokenRequests?: () => number };
  before(async () => {
    registry = await startRegistry({ token: credentials });
  });
  after(async () => registry?.stop());

  it('pushes and resolves through the token flow; a warm resolve needs no new token', async () => {
    const client = new RegistryClient();
    const repo = repositoryRef(`${registry.host}/bearer/app`);
    const pushed = await pushTestImage(client, repo, 'v1', image, credentials);
    assert.equal((await client.resolveDigest({ ...repo, reference: 'v1' }, credentials)).digest, pushed);
    const tokens = registry.tokenRequests?.() ?? 0;
    assert.equal((await new RegistryClient().resolveDigest({ ...repo, reference: 'v1' }, credentials)).digest, pushed, 'a fresh client');
    assert.equal(registry.tokenRequests?.(), tokens + 1);
    assert.equal((await client.resolveDigest({ ...repo, reference: 'v1' }, credentials)).digest, pushed);
    assert.equal(registry.tokenRequests?.(), tokens + 1, 'the cached token was reused');
  });

  it('wrong credentials: the token request fails naming the registry and the 401, without the password', async () => {
    const wrong = { username: 'robot', password: `bad-${randomBytes(6).toString('hex')}` };
    const err = await new RegistryClient().resolveDigest({ ...repositoryRef(`${registry.host}/bearer/app`), reference: 'v1' }, wrong).then(
      () => assert.fail('resolved with a wrong password'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RegistryError);
    assert.equal(err.status, 401);
    assert.match(err.message, new RegExp(`registry ${registry.host}, repository bearer/app: token request .*401`));
    assert.ok(!`${err.message} ${err.stack}`.includes(wrong.password));
  });
});
