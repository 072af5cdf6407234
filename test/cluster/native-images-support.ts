// The shared setup of `native-images.yml` on the kube-sim test cluster, for the integration test
// (native-images.test.ts) and the `image_resolution` benchmark (bench/image-resolution.ts): the
// cluster, a second registry WITH htpasswd auth holding the images the fixture names, and the
// audit-log and database readers both use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { TestNode } from '../support/node.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { startKubeEnv, type KubeEnv } from '../runtime/kubernetes/support.ts';
import { buildBusyboxImage, pushImage } from '../kube-sim/images/build.ts';
import { resourceRepository } from '../kube-sim/images/resource-types.ts';
import type { AuditEvent } from '../kube-sim/apiserver/audit.ts';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { getBuild, type BuildRecord } from '../../src/db/builds.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

export const FIXTURE_PATH = join(PIPELINE_FIXTURES, 'jetway', 'native-images.yml');
export const FIXTURE = readFileSync(FIXTURE_PATH, 'utf8');
export const creds = { username: 'ci-puller', password: 'pw-native-9f3c2a7e' };

export type ImageName = 'app' | 'app2' | 'tool' | 'registryImageType' | 'mockType';

export interface NativeImagesEnv {
  env: KubeEnv;
  /** the pipeline's `((registry))`: a second registry with htpasswd auth */
  priv: TestRegistry;
  /** the digests pushed to `priv` (`app2` once `pushApp2` ran) */
  digests: Record<ImageName, string>;
  client: RegistryClient;
  push(path: string, tag: string, image: Parameters<typeof pushImage>[3]): Promise<string>;
  /** moves team/app:v1 to a new digest (the later builds' change); returns it */
  pushApp2(): Promise<string>;
  /** the fixture's `((vars))` */
  vars(): Record<string, string>;
  stop(): Promise<void>;
}

/** The test cluster (zero latency while the images are pushed) and the fixture's private registry with its four images. */
export async function startNativeImagesEnv(): Promise<NativeImagesEnv> {
  const env = await startKubeEnv(['mock', 'registry-image']);
  let priv: TestRegistry | undefined;
  try {
    priv = await startRegistry({ htpasswd: creds });
    const registry = priv;
    const client = new RegistryClient({ userAgent: 'jetway-native-images-tests' });
    const push = (path: string, tag: string, image: Parameters<typeof pushImage>[3]): Promise<string> => pushImage(client, { registry: registry.host, path }, tag, image, creds);
    const digests: Record<ImageName, string> = { app: '', app2: '', tool: '', registryImageType: '', mockType: '' };
    digests.registryImageType = await push(resourceRepository('registry-image'), 'stable', env.resourceTypeImages['registry-image']!);
    digests.mockType = await push(resourceRepository('mock'), 'stable', env.resourceTypeImages.mock!);
    digests.app = await push('team/app', 'v1', await buildBusyboxImage({ '/etc/app-release': 'app release v1\n' }));
    digests.tool = await push('team/tool', 'v2', await buildBusyboxImage({ '/etc/tool-release': 'tool release v2\n' }));
    return {
      env,
      priv: registry,
      digests,
      client,
      push,
      pushApp2: async () => (digests.app2 = await push('team/app', 'v1', await buildBusyboxImage({ '/etc/app-release': 'app release v1.1\n' }))),
      vars: () => ({ registry: registry.host, registry_username: creds.username, registry_password: creds.password }),
      async stop() {
        await registry.stop();
        await env.stop();
      },
    };
  } catch (err) {
    await priv?.stop().catch(() => undefined);
    await env.stop().catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------- audit and database readers

export interface PodCreate {
  labels: Record<string, string>;
  spec: NonNullable<V1Pod['spec']>;
  event: AuditEvent;
}

/** The pods created on the cluster with these labels, in order, from the API server's audit log. */
export function podCreates(env: KubeEnv, labels: Record<string, string>): PodCreate[] {
  return env.cluster.audit.events({ verb: 'create', resource: 'pods', labels }).map((event) => {
    const pod = event.requestObject as V1Pod;
    return { labels: pod.metadata?.labels ?? {}, spec: pod.spec!, event };
  });
}

export const stepImage = (p: PodCreate): string | undefined => p.spec.containers.find((c) => c.name === 'step')?.image;
export const describePods = (pods: PodCreate[]): string =>
  JSON.stringify(pods.map((p) => ({ build: p.labels['jetway.dev/build-id'], type: p.labels['jetway.dev/type'], step: p.labels['jetway.dev/step'], purpose: p.labels['jetway.dev/purpose'], image: stepImage(p) })), null, 1);

export async function jobBuilds(t: TestNode, pipelineId: number, job: string): Promise<BuildRecord[]> {
  const r = await t.tdb.db.query<{ id: number }>('SELECT b.id FROM builds b JOIN jobs j ON j.id = b.job_id WHERE j.pipeline_id = $1 AND j.name = $2 ORDER BY b.id', [pipelineId, job]);
  const out: BuildRecord[] = [];
  for (const row of r.rows) out.push((await getBuild(t.tdb.db, Number(row.id)))!);
  return out;
}

export async function checkBuilds(t: TestNode, pipelineId: number, resource: string): Promise<BuildRecord[]> {
  const r = await t.tdb.db.query<{ id: number }>('SELECT b.id FROM builds b JOIN resources r ON r.id = b.resource_id WHERE r.pipeline_id = $1 AND r.name = $2 ORDER BY b.id', [pipelineId, resource]);
  const out: BuildRecord[] = [];
  for (const row of r.rows) out.push((await getBuild(t.tdb.db, Number(row.id)))!);
  return out;
}

export async function allBuildIds(t: TestNode, pipelineId: number): Promise<number[]> {
  const r = await t.tdb.db.query<{ id: number }>('SELECT id FROM builds WHERE pipeline_id = $1 ORDER BY id', [pipelineId]);
  return r.rows.map((row) => Number(row.id));
}

/** The versions the scheduler gave a build (its inputs), by input name. */
export async function buildInputs(t: TestNode, buildId: number): Promise<Record<string, Record<string, string>>> {
  const r = await t.tdb.db.query<{ name: string; version: Record<string, string> }>(
    `SELECT i.name, v.version FROM build_resource_config_version_inputs i
       JOIN resources r ON r.id = i.resource_id
       JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id AND v.version_sha256 = i.version_digest
      WHERE i.build_id = $1`,
    [buildId],
  );
  return Object.fromEntries(r.rows.map((row) => [row.name, row.version]));
}

/** The names of a build's get, check, put and task steps (and of its images' checks and gets), by plan id. */
export async function planNames(t: TestNode, buildId: number): Promise<Map<string, string>> {
  const r = await t.tdb.db.query<{ plan: unknown }>('SELECT public_plan AS plan FROM builds WHERE id = $1', [buildId]);
  const names = new Map<string, string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    for (const kind of ['get', 'check', 'put', 'task']) {
      const step = o[kind] as { name?: string } | undefined;
      if (typeof o.id === 'string' && step && typeof step.name === 'string') names.set(o.id, step.name);
    }
    Object.values(o).forEach(walk);
  };
  walk(r.rows[0]?.plan);
  return names;
}

/** A build's image-check and image-get events, in order: [the step whose image it is, event, resolved without a pod]. */
export async function imageEvents(t: TestNode, buildId: number): Promise<[string, string, boolean][]> {
  const names = await planNames(t, buildId);
  return (await t.events(buildId)).flatMap((e): [string, string, boolean][] =>
    e.event === 'image-check' || e.event === 'image-get' ? [[names.get(e.data.origin.id) ?? e.data.origin.id, e.event, e.data.resolved_without_pod === true]] : [],
  );
}

/** The finish-get events of a build's get steps named `steps`, in order: [step, digest or version, resolved without a pod]. */
export async function stepGets(t: TestNode, buildId: number, steps: string[]): Promise<[string, string, boolean][]> {
  const names = await planNames(t, buildId);
  return (await t.events(buildId)).flatMap((e): [string, string, boolean][] => {
    if (e.event !== 'finish-get') return [];
    const name = names.get(e.data.origin.id) ?? '';
    if (!steps.includes(name)) return [];
    const version = e.data.version as Record<string, string>;
    return [[name, version.digest ?? version.version ?? '', e.data.resolved_without_pod === true]];
  });
}

export async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Drives the node until the first `n` builds of each job in `want` completed; on failure, every build's logs. */
export async function settleJobs(t: TestNode, pipelineId: number, want: Record<string, number>): Promise<void> {
  const done = async (): Promise<boolean> => {
    for (const [job, n] of Object.entries(want)) {
      const builds = await jobBuilds(t, pipelineId, job);
      if (builds.length < n || builds.slice(0, n).some((b) => !b.completed)) return false;
    }
    return true;
  };
  try {
    await t.settle(done);
  } catch (err) {
    // what every build of the pipeline did, to see why it did not settle
    const lines: string[] = [];
    for (const buildId of await allBuildIds(t, pipelineId)) {
      const b = (await getBuild(t.tdb.db, buildId))!;
      lines.push(`build ${b.id} ${b.jobName ?? 'check'} #${b.name} ${b.status}\n${await t.logs(b.id)}`);
    }
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${lines.join('\n')}`);
  }
}

export async function assertSucceeded(t: TestNode, builds: BuildRecord[]): Promise<void> {
  for (const b of builds) assert.equal(b.status, 'succeeded', `${b.jobName} #${b.name}:\n${await t.logs(b.id)}`);
}

/** An HTTP relay in front of a registry that records every request (`METHOD /path`): what asked the registry for what. */
export interface RecordingRelay {
  /** `127.0.0.1:<port>`: a registry host to name in a repository */
  host: string;
  requests: string[];
  close(): Promise<void>;
}

export async function recordingRelay(target: string): Promise<RecordingRelay> {
  const colon = target.lastIndexOf(':');
  const [targetHost, targetPort] = [target.slice(0, colon), Number(target.slice(colon + 1))];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
