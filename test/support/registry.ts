// A real OCI registry for tests: the Debian `docker-registry` package (distribution 2.8,
// /usr/bin/docker-registry; scripts/install-test-deps.sh installs it) on a free loopback port with
// a temporary storage directory and a generated config, optionally with htpasswd (Basic) auth.
// Plus helpers that build small OCI images in memory and push them with our own client, so no
// Docker engine is needed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomBytes, sign } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, type TarEntry } from '../../src/images/layers.ts';
import { MEDIA_TYPES, sha256Digest, type Descriptor, type Platform } from '../../src/images/oci.ts';
import type { ImageRegistry, RegistryCredentials, RepositoryRef } from '../../src/images/registry-client.ts';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** The credentials htpasswd auth was set up with, if any. */
  credentials?: RegistryCredentials;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartRegistryOptions {
  /** Basic auth: every request needs these credentials. */
  htpasswd?: RegistryCredentials;
  /**
   * Bearer token auth: the registry trusts tokens from a token server started here (a node http
   * server signing ES256 JWTs with a self-signed certificate made by openssl, the registry's
   * rootcertbundle). It issues tokens for these credentials only.
   */
  token?: RegistryCredentials;
}

/** Starts a registry, open or with htpasswd (Basic) or token (Bearer) auth. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry & { tokenRequests?: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-test-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  let tokenServer: TokenServer | undefined;
  if (options.token) {
    tokenServer = await startTokenServer(dir, options.token);
    auth = `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${tokenServer.certFile}\n`;
  }
  if (options.htpasswd) {
    const line = execFileSync('htpasswd', ['-Bbn', '-C', '4', options.htpasswd.username, options.htpasswd.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), line.trim() + '\n');
    auth = `auth:\n  htpasswd:\n    realm: jetway-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    '  secret: jetway-test-secret',
    auth,
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);

  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (tokenServer) await tokenServer.close();
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`cannot start ${REGISTRY_BINARY} (run scripts/install-test-deps.sh): ${spawnError.message}`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the test registry exited (${child.exitCode}): ${stderr}`);
    }
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the test registry did not come up on ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const credentials = options.htpasswd ?? options.token;
  return { host, ...(credentials ? { credentials } : {}), ...(tokenServer ? { tokenRequests: tokenServer.requests } : {}), stop };
}

// --- a token server the real registry trusts ---

const TOKEN_SERVICE = 'jetway-test-registry';
const TOKEN_ISSUER = 'jetway-test-issuer';

interface TokenServer {
  realm: string;
  certFile: string;
  requests(): number;
  close(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

async function startTokenServer(dir: string, credentials: RegistryCredentials): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=jetway-test-token'], { stdio: 'ignore' });
  const key = readFileSync(keyFile, 'utf8');
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  let requests = 0;
  const server: Server = createHttpServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://token');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer] }));
    const claims = base64url(
      JSON.stringify({ iss: TOKEN_ISSUER, sub: credentials.username, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${header}.${claims}.${base64url(signature)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    }),
  );
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certFile,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- building images ---

export interface TestImageSpec {
  /** Layers, bottom first. */
  layers: TarEntry[][];
  env?: string[];
  user?: string;
  platform?: Platform;
  /** gzip the layers (default true). */
  gzip?: boolean;
}

export interface TestImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDescriptor: Descriptor;
  layers: { data: Buffer; descriptor: Descriptor }[];
}

/** An OCI image in memory. */
export function buildTestImage(spec: TestImageSpec): TestImage {
  const gzip = spec.gzip ?? true;
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers = spec.layers.map((entries) => {
    const tar = createTar(entries);
    const data = gzip ? gzipSync(tar) : tar;
    return { tar, data, descriptor: { mediaType: gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer, digest: sha256Digest(data), size: data.length } };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: spec.env ?? ['PATH=/usr/bin:/bin'], ...(spec.user !== undefined ? { User: spec.user } : {}) },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(l.tar)) },
    }),
  );
  const configDescriptor: Descriptor = { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDescriptor, layers: layers.map((l) => l.descriptor) }),
  );
  return { manifest, manifestDigest: sha256Digest(manifest), config, configDescriptor, layers: layers.map(({ data, descriptor }) => ({ data, descriptor })) };
}

/** Pushes an image's blobs and manifest (under `reference`, a tag or its digest); returns the manifest digest the registry reports. */
export async function pushTestImage(client: ImageRegistry, repo: RepositoryRef, reference: string, image: TestImage, credentials?: RegistryCredentials): Promise<string> {
  await client.pushBlob(repo, image.config, credentials);
  for (const layer of image.layers) await client.pushBlob(repo, layer.data, credentials);
  return client.pushManifest({ ...repo, reference }, image.manifest, MEDIA_TYPES.ociManifest, credentials);
}

/** Pushes several platform images and an index of them under `tag`; returns the index digest. */
export async function pushTestIndex(
  client: ImageRegistry,
  repo: RepositoryRef,
  tag: string,
  images: { image: TestImage; platform: Platform }[],
  credentials?: RegistryCredentials,
): Promise<string> {
  const manifests: Descriptor[] = [];
  for (const { image, platform } of images) {
    await pushTestImage(client, repo, image.manifestDigest, image, credentials);
    manifests.push({ mediaType: MEDIA_TYPES.ociManifest, digest: image.manifestDigest, size: image.manifest.length, platform });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
  return client.pushManifest({ ...repo, reference: tag }, index, MEDIA_TYPES.ociIndex, credentials);
}

/** An OCI image layout tarball of `image` (what `out` pushes). */
export function ociLayoutTarball(image: TestImage, tag = 'latest'): Buffer {
  const blob = (digest: string, content: Buffer): TarEntry => ({ type: 'file', path: `blobs/sha256/${digest.slice('sha256:'.length)}`, content });
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: image.manifestDigest, size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  return createTar([
    { type: 'file', path: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', content: JSON.stringify(index) },
    { type: 'directory', path: 'blobs' },
    { type: 'directory', path: 'blobs/sha256' },
    blob(image.manifestDigest, image.manifest),
    blob(image.configDescriptor.digest, image.config),
    ...image.layers.map((l) => blob(l.descriptor.digest, l.data)),
  ]);
}

/** A `docker save` tarball of `image` (uncompressed layers as `<n>/layer.tar`). */
export function dockerSaveTarball(spec: TestImageSpec): Buffer {
  const image = buildTestImage({ ...spec, gzip: false });
  const layers = image.layers.map((l, i) => ({ path: `${i}/layer.tar`, data: l.data }));
  const manifest = [{ Config: 'config.json', RepoTags: ['example:latest'], Layers: layers.map((l) => l.path) }];
  return createTar([
    { type: 'file', path: 'manifest.json', content: JSON.stringify(manifest) },
    { type: 'file', path: 'config.json', content: image.config },
    ...layers.map((l): TarEntry => ({ type: 'file', path: l.path, content: l.data })),
  ]);
}
