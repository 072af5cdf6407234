// The images Jetway ships, built without a Docker daemon (`jetway images push`; the Dockerfile at
// the repository's root builds the same for Docker and BuildKit users, docs/kubernetes-runtime.md,
// "Images"):
//   jetway/jetway            the web node: Node (an LTS, src/packaging/node-dist.ts) and the jetway
//                            command bundled with its dependencies, `node /opt/jetway/dist/cli/jetway.mjs`
//   jetway/helper            a static busybox with every applet the Kubernetes runtime runs
//                            (init container and artifact sidecar, docs/kubernetes-runtime.md)
//   jetway/<type>-resource   each built-in resource type speaking /opt/resource/{check,in,out}
// Layers, shared ones pushed once:
//   1. base: the static busybox at /bin/busybox, a link per applet, /etc/passwd, /tmp
//   2. runtime: Node at /usr/local/bin/node with the shared libraries it links (from this machine,
//      at the paths the loader searches)
//   3. git (git-resource only): git, its helpers and libraries, CA certificates
//   4. Jetway: the resource types' bundle (/opt/jetway/cli.js) or the web node's files (/opt/jetway)
//   5. resource types: /opt/resource/{check,in,out} scripts
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import type { TarEntry } from '../images/layers.ts';
import { packagePath } from '../package.ts';
import { JETWAY_VERSION } from '../version.ts';
import { assembleImage, buildLayer, DEFAULT_PATH, fileEntries, isDynamicElf, isElf, withExecutable, type BuiltImage, type BuiltLayer } from './oci-build.ts';

/** The built-in resource types that get an image (src/resources/index.ts). */
export const RESOURCE_TYPES = ['mock', 'time', 'git', 'registry-image'] as const;
export type ResourceTypeName = (typeof RESOURCE_TYPES)[number];

export const WEB_REPOSITORY = 'jetway/jetway';
export const HELPER_REPOSITORY = 'jetway/helper';
/** `jetway/<type>-resource` */
export function resourceRepository(type: string): string {
  return `jetway/${type}-resource`;
}

/**
 * The busybox applets the Kubernetes runtime runs (src/runtime/kubernetes/pod-spec.ts and
 * kubernetes-runtime.ts; a test reads those files for more): the init container's cp, the
 * sidecar's sh/sleep/mkdir/chmod/tar, the step container's sh/sleep/cat/kill/grep, and chpst for a
 * task's run.user given as a name.
 */
export const HELPER_APPLETS = ['cat', 'chmod', 'chpst', 'cp', 'grep', 'head', 'kill', 'mkdir', 'mv', 'rm', 'setsid', 'sh', 'sleep', 'tail', 'tar', 'test', 'usleep', 'wc'] as const;

/** Where the web node's files are in its image (the package root: package.json, dist/, migrations). */
export const WEB_ROOT = '/opt/jetway';
export const WEB_ENTRYPOINT = ['/usr/local/bin/node', `${WEB_ROOT}/dist/cli/jetway.mjs`] as const;
export const WEB_CMD = ['web'] as const;
/**
 * The web image's environment. MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (libuv's
 * pool, V8's workers, the pipeline loader's worker) an arena of its own, and what they freed stays
 * resident; two arenas cut an idle web node's RSS by about a fifth (BENCHMARKS.md, issue 23).
 */
export const WEB_ENV = ['NODE_ENV=production', 'JETWAY_DATA_DIR=/var/lib/jetway', 'MALLOC_ARENA_MAX=2'] as const;
/** The web node's user (no root needed on the Kubernetes runtime). */
export const WEB_USER = '1000:1000';
/** The resource scripts' command: `node /opt/jetway/cli.js <type> <check|in|out> "$@"`. */
export const RESOURCE_BUNDLE = '/opt/jetway/cli.js';

/** The big binary layers favour speed over a few percent of size. */
const BIG_LAYER_GZIP_LEVEL = 1;

export type Progress = (message: string) => void;

/** A Node binary for the images. */
export interface NodeSource {
  /** `v24.22.3` */
  version: string;
  binary(): Promise<Buffer>;
}

export interface ImageBuildOptions {
  /** a statically linked busybox (default /bin/busybox) */
  busyboxPath: string;
  /** applets of HELPER_APPLETS the busybox may lack (a helper without chpst fails named run.user tasks clearly) */
  allowMissingApplets?: readonly string[];
  node: NodeSource;
  progress?: Progress;
}

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
}

/** The applets a busybox binary has (`busybox --list`). */
export function busyboxApplets(path: string): string[] {
  return execFileSync(path, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[\w.[-]+$/.test(s) && s !== 'busybox')
    .sort();
}

/** The problem with a busybox for the helper image, or undefined. */
export function busyboxProblem(path: string, applets: readonly string[], allowMissing: readonly string[] = []): string | undefined {
  const missing = HELPER_APPLETS.filter((a) => !applets.includes(a) && !allowMissing.includes(a));
  if (missing.length === 0) return undefined;
  const hint = missing.includes('chpst')
    ? " (Debian's busybox-static has no chpst: scripts/build-busybox.sh builds one that has; or --allow-missing-applet chpst, and tasks whose run.user is a name then fail clearly)"
    : '';
  return `${path} lacks the applet${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that the Kubernetes runtime runs${hint}`;
}

/** The busybox base layer: /bin/busybox, a symbolic link per applet, /etc/passwd and group, /tmp. */
export async function busyboxLayer(busyboxPath: string, extraUsers: { passwd: string; group: string } = { passwd: '', group: '' }): Promise<{ layer: BuiltLayer; applets: string[] }> {
  let binary: Buffer;
  try {
    binary = readFileSync(busyboxPath);
  } catch {
    throw new ImageBuildError(`${busyboxPath} not found: give --busybox a static busybox (Debian: busybox-static; with chpst: scripts/build-busybox.sh)`);
  }
  if (isDynamicElf(busyboxPath)) throw new ImageBuildError(`${busyboxPath} is dynamically linked: give --busybox a static busybox (Debian: busybox-static)`);
  const applets = busyboxApplets(busyboxPath);
  const entries: TarEntry[] = [
    ...['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'usr', 'usr/bin', 'usr/local', 'usr/local/bin', 'usr/sbin', 'var', 'var/tmp'].map(
      (path): TarEntry => ({ type: 'directory', path, mode: path === 'root' ? 0o700 : 0o755 }),
    ),
    { type: 'directory', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', content: binary, mode: 0o755 },
    ...applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { type: 'symlink', path: 'usr/bin/env', target: '/bin/busybox' },
    { type: 'file', path: 'etc/passwd', content: `root:x:0:0:root:/root:/bin/sh\n${extraUsers.passwd}nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n` },
    { type: 'file', path: 'etc/group', content: `root:x:0:\n${extraUsers.group}nogroup:x:65534:\n` },
  ];
  return { layer: await buildLayer(entries), applets };
}

/** The shared libraries (and the loader) `ldd` lists for `binaries`, as absolute paths. */
export function sharedLibraries(binaries: string[]): string[] {
  const libs = new Set<string>();
  for (const binary of binaries) {
    let out: string;
    try {
      out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      continue; // static, or not an executable
    }
    for (const line of out.split('\n')) {
      const arrow = /=>\s+(\/\S+)/.exec(line);
      const direct = /^\s*(\/\S+)\s+\(/.exec(line);
      const path = arrow?.[1] ?? direct?.[1];
      if (path) libs.add(path);
    }
  }
  return [...libs].sort();
}

function libraryFiles(libs: string[]): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const lib of libs) files[lib] = readFileSync(realpathSync(lib));
  return files;
}

/** Node at /usr/local/bin/node and the libraries it links. */
export async function runtimeLayer(node: Buffer): Promise<BuiltLayer> {
  const tmp = mkdtempSync(join(tmpdir(), 'jetway-node-'));
  try {
    const path = join(tmp, 'node');
    writeFileSync(path, node, { mode: 0o755 });
    const libs = sharedLibraries([path]);
    const files: Record<string, Buffer> = { ...libraryFiles(libs), '/usr/local/bin/node': node };
    return await buildLayer(withExecutable(fileEntries(files), new Set(['/usr/local/bin/node', ...libs])), BIG_LAYER_GZIP_LEVEL);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** git, its helpers (hard links kept) and libraries, and the CA certificates, from this machine. */
export async function gitLayer(): Promise<BuiltLayer> {
  let gitPath: string;
  try {
    gitPath = realpathSync('/usr/bin/git');
  } catch {
    throw new ImageBuildError('/usr/bin/git not found: the git resource image takes git from this machine (Debian: apt-get install git)');
  }
  const core = '/usr/lib/git-core';
  const files: { rel: string; path: string; inode: string }[] = [{ rel: 'usr/bin/git', path: gitPath, inode: '' }];
  const entries: TarEntry[] = [
    { type: 'directory', path: 'usr/lib' },
    { type: 'directory', path: 'usr/lib/git-core' },
  ];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative('/', path);
      const st = lstatSync(path);
      if (st.isDirectory()) {
        entries.push({ type: 'directory', path: rel });
        walk(path);
      } else if (st.isSymbolicLink()) {
        entries.push({ type: 'symlink', path: rel, target: readlinkSync(path) });
      } else if (st.isFile()) {
        files.push({ rel, path, inode: `${st.dev}:${st.ino}` });
      }
    }
  };
  walk(core);
  if (existsSync('/usr/share/git-core/templates')) {
    entries.push({ type: 'directory', path: 'usr/share' }, { type: 'directory', path: 'usr/share/git-core' }, { type: 'directory', path: 'usr/share/git-core/templates' });
    walk('/usr/share/git-core/templates');
  }
  // the first path of an inode in sorted order carries the content; the others link to it
  const gitStat = lstatSync(gitPath);
  const first = files[0];
  if (first) first.inode = `${gitStat.dev}:${gitStat.ino}`;
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const owner = new Map<string, string>();
  const elves = [gitPath];
  for (const f of files) {
    const prior = owner.get(f.inode);
    if (prior) {
      entries.push({ type: 'hardlink', path: f.rel, target: prior });
      continue;
    }
    owner.set(f.inode, f.rel);
    entries.push({ type: 'file', path: f.rel, content: readFileSync(f.path), mode: f.rel === 'usr/bin/git' ? 0o755 : lstatSync(f.path).mode & 0o777 });
    if (isElf(f.path)) elves.push(f.path);
  }
  const libs = sharedLibraries(elves);
  const extra: Record<string, Buffer> = libraryFiles(libs);
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(ca)) extra[ca] = readFileSync(ca);
  const extraEntries = withExecutable(fileEntries(extra), new Set(libs)).filter((e) => !(e.type === 'directory' && entries.some((x) => x.path === e.path)));
  return buildLayer([...extraEntries, ...entries], BIG_LAYER_GZIP_LEVEL);
}

/** The resource types' bundle (src/resources/cli.ts through esbuild) at /opt/jetway/cli.js. */
export async function resourceBundleEntries(): Promise<TarEntry[]> {
  const { bundleResourcesCli } = await import('../resources/bundle.ts');
  return fileEntries({ [RESOURCE_BUNDLE]: await bundleResourcesCli(), '/opt/jetway/package.json': '{"type":"module"}\n' });
}

export async function resourceBundleLayer(): Promise<BuiltLayer> {
  return buildLayer(await resourceBundleEntries());
}

/** The /opt/resource scripts of one type. */
export function scriptsEntries(type: string): TarEntry[] {
  const script = (name: string): string => `#!/bin/sh\nexec /usr/local/bin/node ${RESOURCE_BUNDLE} '${type}' ${name} "$@"\n`;
  return fileEntries({ '/opt/resource/check': script('check'), '/opt/resource/in': script('in'), '/opt/resource/out': script('out') }, 0o755);
}

export async function scriptsLayer(type: string): Promise<BuiltLayer> {
  return buildLayer(scriptsEntries(type));
}

/**
 * The jetway command as one self-contained ES module and its lazily loaded chunks (esbuild, every
 * dependency inside but esbuild itself, which only `jetway images` and an out-of-date UI use), as
 * files under dist/cli/.
 */
export async function webBundle(): Promise<Record<string, Buffer>> {
  const { build } = await import('esbuild');
  const outdir = packagePath('dist', 'image-cli');
  const loadWorker = packagePath('src', 'config', 'load-worker.ts');
  const result = await build({
    // the entry points of src/cli/bundle.ts (a test compares): the command, and the worker thread
    // that loads pipelines for the web node (src/config/off-thread.ts finds it next to itself)
    entryPoints: { jetway: packagePath('src', 'cli', 'main.ts'), ...(existsSync(loadWorker) ? { 'config-worker': loadWorker } : {}) },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    write: false,
    outdir,
    outExtension: { '.js': '.mjs' },
    // esbuild's comments name each module relative to its working directory: the package root, not
    // the caller's, so the image is the same from any directory (docs/kubernetes-runtime.md, "Images")
    absWorkingDir: packagePath(),
    external: ['esbuild', 'tsx', 'pg-native'],
    logLevel: 'silent',
    legalComments: 'none',
    banner: { js: "import { createRequire as __jetwayCreateRequire } from 'node:module';\nconst require = __jetwayCreateRequire(import.meta.url);" },
  });
  const files: Record<string, Buffer> = {};
  for (const f of result.outputFiles) files[`${WEB_ROOT}/dist/cli/${relative(outdir, f.path)}`] = Buffer.from(f.contents);
  return files;
}

/** The web node's files: package.json, the bundled command, the UI, the resource types, the migrations. */
export async function webEntries(): Promise<TarEntry[]> {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { name: string; version: string; license?: string };
  const files: Record<string, Buffer | string> = {
    [`${WEB_ROOT}/package.json`]: `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', ...(pkg.license ? { license: pkg.license } : {}) }, null, 2)}\n`,
    ...(await webBundle()),
  };
  const { buildUiAssets } = await import('../ui/bundle.ts');
  const ui = await buildUiAssets();
  files[`${WEB_ROOT}/dist/ui/app.js`] = ui.js;
  files[`${WEB_ROOT}/dist/ui/style.css`] = ui.css;
  const { bundleResourcesCli } = await import('../resources/bundle.ts');
  files[`${WEB_ROOT}/dist/resources-cli.mjs`] = await bundleResourcesCli();
  const migrations = packagePath('src', 'db', 'migrations');
  for (const name of readdirSync(migrations).sort()) files[`${WEB_ROOT}/src/db/migrations/${basename(name)}`] = readFileSync(join(migrations, name));
  // the UI's source folder, empty: dist/ui is then as new as its sources (src/ui/bundle.ts)
  const entries: TarEntry[] = [...fileEntries(files), { type: 'directory', path: `${WEB_ROOT.slice(1)}/src/ui` }, { type: 'directory', path: `${WEB_ROOT.slice(1)}/src/ui/app` }];
  entries.push({ type: 'directory', path: 'var/lib/jetway', mode: 0o777 });
  return entries.filter((e, i) => entries.findIndex((x) => x.path === e.path) === i);
}

export async function webLayer(): Promise<BuiltLayer> {
  return buildLayer(await webEntries());
}

export interface ImageSetEntry {
  /** `jetway/helper` */
  repository: string;
  image: BuiltImage;
}

const LABEL_VERSION = 'org.opencontainers.image.version';
const LABEL_TITLE = 'org.opencontainers.image.title';

/** Which images: `web`, `helper`, or a resource type's name. */
export type ImageName = 'web' | 'helper' | ResourceTypeName;
export const ALL_IMAGES: readonly ImageName[] = ['web', 'helper', ...RESOURCE_TYPES];

/**
 * Layers shared by the images of one process (a test builds several sets): keyed by their inputs,
 * the busybox's path and the Node source. Sources of this checkout are read once per process.
 */
const layerCache = {
  base: new Map<string, Promise<{ layer: BuiltLayer; applets: string[] }>>(),
  runtime: new Map<NodeSource, Promise<BuiltLayer>>(),
  resources: undefined as Promise<BuiltLayer> | undefined,
  git: undefined as Promise<BuiltLayer> | undefined,
};

function forgetOnFailure<K, V>(map: Map<K, Promise<V>>, key: K, p: Promise<V>): void {
  map.set(key, p);
  p.catch(() => {
    if (map.get(key) === p) map.delete(key);
  });
}

/** Builds the images named (default all), each once, in ALL_IMAGES's order. */
export async function buildImages(options: ImageBuildOptions, which: readonly ImageName[] = ALL_IMAGES): Promise<ImageSetEntry[]> {
  const progress = options.progress ?? (() => {});
  const base = async (): Promise<{ layer: BuiltLayer; applets: string[] }> => {
    const key = options.busyboxPath;
    let p = layerCache.base.get(key);
    if (!p) {
      progress(`base layer: ${options.busyboxPath}`);
      p = busyboxLayer(options.busyboxPath, { passwd: 'jetway:x:1000:1000:jetway:/var/lib/jetway:/bin/sh\n', group: 'jetway:x:1000:\n' });
      forgetOnFailure(layerCache.base, key, p);
    }
    return p;
  };
  const runtime = (): Promise<BuiltLayer> => {
    let p = layerCache.runtime.get(options.node);
    if (!p) {
      p = options.node.binary().then((binary) => {
        progress(`runtime layer: Node ${options.node.version}`);
        return runtimeLayer(binary);
      });
      forgetOnFailure(layerCache.runtime, options.node, p);
    }
    return p;
  };
  const resources = (): Promise<BuiltLayer> => {
    if (!layerCache.resources) {
      progress('resource types bundle');
      layerCache.resources = resourceBundleLayer();
      layerCache.resources.catch(() => (layerCache.resources = undefined));
    }
    return layerCache.resources;
  };
  const git = (): Promise<BuiltLayer> => {
    if (!layerCache.git) {
      progress('git layer');
      layerCache.git = gitLayer();
      layerCache.git.catch(() => (layerCache.git = undefined));
    }
    return layerCache.git;
  };
  const out: ImageSetEntry[] = [];
  for (const name of ALL_IMAGES.filter((n) => which.includes(n))) {
    const labels = (title: string): Record<string, string> => ({ [LABEL_TITLE]: title, [LABEL_VERSION]: JETWAY_VERSION });
    if (name === 'helper') {
      const { layer, applets } = await base();
      const problem = busyboxProblem(options.busyboxPath, applets, options.allowMissingApplets);
      if (problem) throw new ImageBuildError(problem);
      out.push({ repository: HELPER_REPOSITORY, image: assembleImage([layer], { env: [DEFAULT_PATH], cmd: ['sh'], labels: labels(HELPER_REPOSITORY) }) });
    } else if (name === 'web') {
      const layers = [(await base()).layer, await runtime()];
      progress('web node layer: the jetway command, UI and migrations');
      layers.push(await webLayer());
      out.push({
        repository: WEB_REPOSITORY,
        image: assembleImage(layers, {
          env: [DEFAULT_PATH, ...WEB_ENV],
          entrypoint: [...WEB_ENTRYPOINT],
          cmd: [...WEB_CMD],
          workingDir: '/var/lib/jetway',
          user: WEB_USER,
          labels: labels(WEB_REPOSITORY),
        }),
      });
    } else {
      const layers = [(await base()).layer, await runtime()];
      if (name === 'git') layers.push(await git());
      layers.push(await resources(), await scriptsLayer(name));
      out.push({ repository: resourceRepository(name), image: assembleImage(layers, { env: [DEFAULT_PATH], cmd: ['sh'], labels: labels(resourceRepository(name)) }) });
    }
  }
  return out;
}
