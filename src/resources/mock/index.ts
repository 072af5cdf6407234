// The `mock` resource type: Concourse's mock resource (github.com/concourse/mock-resource), used by
// most of Concourse's own test pipelines. Every source field and param is optional.
//
// source: initial_version (default `mock`, or $MIRRORED_VERSION when run from a mirrored image),
//   no_initial_version, force_version, create_files, metadata, log, check_delay, check_failure,
//   mirror_self.
// in params: create_files_via_params, mirror_self_via_params.
// out params: version, file, print_env.
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Fields, parseGoDuration, sleep, toVersion } from '../fields.ts';
import { resourceShellScript, type ResourceScript } from '../command.ts';
import { ResourceError, type CheckRequest, type InRequest, type JsonValue, type Metadata, type OutRequest, type ResourceContext, type ResourceResult, type ResourceTypeImpl } from '../protocol.ts';
import type { Version } from '../../model/version.ts';

export const DEFAULT_INITIAL_VERSION = 'mock';

const SOURCE_FIELDS = [
  'mirror_self',
  'initial_version',
  'no_initial_version',
  'force_version',
  'create_files',
  'check_delay',
  'check_failure',
  'metadata',
  'log',
] as const;
const GET_PARAMS = ['mirror_self_via_params', 'create_files_via_params'] as const;
const PUT_PARAMS = ['version', 'file', 'print_env'] as const;

interface MockSource {
  mirrorSelf: boolean;
  initialVersion: string | undefined;
  noInitialVersion: boolean;
  forceVersion: string | undefined;
  createFiles: Record<string, JsonValue>;
  checkDelay: string | undefined;
  checkFailure: string | undefined;
  metadata: Metadata;
  log: string | undefined;
}

function parseSource(raw: CheckRequest['source'] | undefined): MockSource {
  const f = new Fields(raw ?? {}, 'source');
  f.rejectUnknown(SOURCE_FIELDS);
  const metadata: Metadata = (f.list('metadata') ?? []).map((entry, i) => {
    const e = new Fields(entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? entry : undefined, `source.metadata[${i}]`);
    if (!e.has('name')) throw new ResourceError(`invalid source.metadata[${i}]: expected {name, value}`);
    return { name: e.string('name') ?? '', value: e.string('value') ?? '' };
  });
  return {
    mirrorSelf: f.bool('mirror_self'),
    initialVersion: f.string('initial_version'),
    noInitialVersion: f.bool('no_initial_version'),
    forceVersion: f.string('force_version'),
    createFiles: f.object('create_files') ?? {},
    checkDelay: f.string('check_delay'),
    checkFailure: f.string('check_failure'),
    metadata,
    log: f.string('log'),
  };
}

function initialVersion(source: MockSource, ctx: ResourceContext): string {
  if (source.initialVersion) return source.initialVersion;
  const mirrored = ctx.env.MIRRORED_VERSION;
  if (mirrored) return mirrored;
  return DEFAULT_INITIAL_VERSION;
}

function logMessage(source: MockSource, ctx: ResourceContext): void {
  if (source.log !== undefined && source.log !== '') ctx.stderr.write(`${source.log}\n`);
}

function mockVersion(version: string, ctx: ResourceContext): Version {
  return ctx.privileged ? { version, privileged: 'true' } : { version };
}

/** Resolves `path` inside `dir`, refusing paths that escape it. */
function inside(dir: string, path: string, what: string): string {
  const target = resolve(dir, path);
  const rel = relative(resolve(dir), target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new ResourceError(`${what} '${path}' is outside the resource directory`);
  }
  return target;
}

async function check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
  const source = parseSource(req.source);
  logMessage(source, ctx);

  if (source.checkDelay !== undefined && source.checkDelay !== '') {
    const ms = parseGoDuration(source.checkDelay);
    if (ms === undefined) throw new ResourceError(`malformed check_delay duration (${source.checkDelay})`);
    if (ms > 0) await sleep(ms, ctx.signal);
  }

  if (source.checkFailure !== undefined && source.checkFailure !== '') {
    throw new ResourceError(`intentionally failing to check: ${source.checkFailure}`);
  }

  if (source.forceVersion !== undefined && source.forceVersion !== '') return [mockVersion(source.forceVersion, ctx)];
  if (req.version) {
    const given = toVersion(req.version);
    return [mockVersion(given.version ?? '', ctx)];
  }
  if (!source.noInitialVersion) return [mockVersion(initialVersion(source, ctx), ctx)];
  return [];
}

/** Content of a create_files entry: strings as they are, anything else as JSON. */
function fileContent(content: JsonValue): string {
  return typeof content === 'string' ? content : JSON.stringify(content);
}

/**
 * The image layout of `mirror_self`: Concourse copies the mock resource's own root filesystem. A
 * Jetway resource runs as a process on its host, so the mirrored root is the host's: the system
 * directories are symbolic links to the host's, `opt/resource/{check,in,out}` run this mock type
 * (so the image can serve as a custom resource type), and tmp, dev, proc and sys are empty.
 */
async function mirrorSelf(rootfs: string): Promise<void> {
  await mkdir(rootfs, { recursive: true });
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'usr', 'etc']) {
    const host = `/${name}`;
    if (existsSync(host)) await symlink(host, join(rootfs, name));
  }
  for (const name of ['tmp', 'dev', 'proc', 'sys', 'root']) await mkdir(join(rootfs, name), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  const resourceDir = join(rootfs, 'opt', 'resource');
  await mkdir(resourceDir, { recursive: true });
  for (const script of ['check', 'in', 'out'] as ResourceScript[]) {
    const path = join(resourceDir, script);
    await writeFile(path, resourceShellScript('mock', script), { mode: 0o755 });
  }
}

async function get(req: InRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const source = parseSource(req.source);
  const params = new Fields(req.params ?? {}, 'params');
  params.rejectUnknown(GET_PARAMS);
  logMessage(source, ctx);
  const version = toVersion(req.version);
  const name = version.version ?? '';

  await mkdir(dir, { recursive: true });
  if (ctx.privileged) ctx.stderr.write('fetching in a privileged container\n');
  await writeFile(join(dir, 'privileged'), `${ctx.privileged ? 'true' : 'false'}\n`);
  ctx.stderr.write(`fetching version: ${name}\n`);
  await writeFile(join(dir, 'version'), `${name}\n`);

  const viaParams = params.bool('mirror_self_via_params');
  if (source.mirrorSelf || viaParams) {
    ctx.stderr.write(`mirroring self image${viaParams ? ' (via params)' : ''}\n`);
    await mirrorSelf(join(dir, 'rootfs'));
    const metadata = { env: [`MIRRORED_VERSION=${name}`], user: 'root' };
    await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(metadata)}\n`);
    // In a runtime that boots images (Kubernetes), "self" is the image this script runs in
    // (`repository@digest`, given by the runtime): written as registry-image writes it, so the
    // mirrored image can be run by reference.
    const self = ctx.env.JETWAY_RESOURCE_IMAGE;
    const at = self ? self.lastIndexOf('@') : -1;
    if (self && at > 0) {
      await writeFile(join(dir, 'repository'), `${self.slice(0, at)}\n`);
      await writeFile(join(dir, 'digest'), `${self.slice(at + 1)}\n`);
    }
  }

  const files: Record<string, JsonValue> = { ...source.createFiles, ...(params.object('create_files_via_params') ?? {}) };
  for (const [path, content] of Object.entries(files)) {
    const target = inside(dir, path, 'create_files path');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, fileContent(content), { mode: 0o644 });
  }

  return { version, metadata: source.metadata };
}

async function put(req: OutRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const source = parseSource(req.source);
  const params = new Fields(req.params ?? {}, 'params');
  params.rejectUnknown(PUT_PARAMS);
  logMessage(source, ctx);

  if (params.bool('print_env')) {
    // Concourse's mock prints the environment; on stderr here, as stdout carries the response.
    const lines = Object.entries(ctx.env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}\n`);
    ctx.stderr.write(lines.join(''));
  }

  let name = params.string('version');
  const file = params.string('file');
  if (file !== undefined && file !== '') {
    const path = inside(dir, file, 'file');
    try {
      name = (await readFile(path, 'utf8')).trim();
    } catch {
      throw new ResourceError(`failed to read version from file '${file}'`);
    }
  }
  name ??= '';

  if (ctx.privileged) ctx.stderr.write('pushing in a privileged container\n');
  ctx.stderr.write(`pushing version: ${name}\n`);
  return { version: mockVersion(name, ctx), metadata: source.metadata };
}

export const mockResource: ResourceTypeImpl = { name: 'mock', check, in: get, out: put };
export default mockResource;
