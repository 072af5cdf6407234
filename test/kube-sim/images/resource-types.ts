// Jetway's built-in resource types as self-contained OCI images, one per type, built without a
// Docker engine. Layers (shared ones are pushed once):
//   1. the busybox base (build.ts)
//   2. the runtime: the host's Node binary (`process.execPath`, stripped of debug info when
//      `strip` is there) at /usr/local/bin/node, plus the shared libraries `ldd` lists for it and
//      the dynamic loader, at the paths the loader searches
//   3. git only: /usr/bin/git, /usr/lib/git-core (hard links kept), their libraries, CA certificates
//   4. Jetway's resource code: src/resources/cli.ts bundled by esbuild into /opt/jetway/cli.js
//      (ESM, self-contained: node_modules included)
//   5. /opt/resource/{check,in,out}: busybox `sh` wrappers running `node /opt/jetway/cli.js <type> <script> "$@"`
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bundleResourcesCli } from '../../../src/resources/bundle.ts';
import type { TarEntry } from '../../../src/images/layers.ts';
import { assembleImage, buildLayer, busyboxLayer, DEFAULT_PATH, fileEntries, type BuiltImage, type BuiltLayer } from './build.ts';

export const RESOURCE_TYPES = ['mock', 'time', 'git', 'registry-image'] as const;
export type ResourceTypeName = (typeof RESOURCE_TYPES)[number];

/** The big binary layers favour speed over a few percent of size. */
const BIG_LAYER_GZIP_LEVEL = 1;

/** `jetway/<type>-resource` */
export function resourceRepository(type: string): string {
  return `jetway/${type}-resource`;
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
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

function libraryEntries(libs: string[]): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const lib of libs) files[lib] = readFileSync(realpathSync(lib));
  return files;
}

function withModes(entries: TarEntry[], executable: Set<string>): TarEntry[] {
  return entries.map((e) => (e.type === 'file' && executable.has(`/${e.path}`) ? { ...e, mode: 0o755 } : e));
}

let runtimeLayerPromise: Promise<BuiltLayer> | undefined;

/** Node and its libraries (built once per process). */
export function runtimeLayer(): Promise<BuiltLayer> {
  runtimeLayerPromise ??= (async () => {
    const node = process.execPath;
    let binary = readFileSync(node);
    const tmp = mkdtempSync(join(tmpdir(), 'kube-sim-node-'));
    try {
      execFileSync('strip', ['--strip-debug', '-o', join(tmp, 'node'), node], { stdio: 'ignore' });
      binary = readFileSync(join(tmp, 'node'));
    } catch {
      // no strip: the binary as it is
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const libs = sharedLibraries([node]);
    const files: Record<string, Buffer> = { ...libraryEntries(libs), '/usr/local/bin/node': binary };
    return buildLayer(withModes(fileEntries(files), new Set(['/usr/local/bin/node', ...libs])), BIG_LAYER_GZIP_LEVEL);
  })();
  return runtimeLayerPromise;
}

let gitLayerPromise: Promise<BuiltLayer> | undefined;

/** git, its helpers and libraries (built once per process). */
export function gitLayer(): Promise<BuiltLayer> {
  gitLayerPromise ??= (async () => {
    const gitPath = realpathSync('/usr/bin/git');
    const gitStat = lstatSync(gitPath);
    const core = '/usr/lib/git-core';
    const entries: TarEntry[] = [
      { type: 'directory', path: 'usr/lib' },
      { type: 'directory', path: 'usr/lib/git-core' },
      { type: 'file', path: 'usr/bin/git', content: readFileSync(gitPath), mode: 0o755 },
    ];
    const elves = [gitPath];
    const seen = new Map<string, string>([[`${gitStat.dev}:${gitStat.ino}`, 'usr/bin/git']]);
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
          const inode = `${st.dev}:${st.ino}`;
          const first = seen.get(inode);
          if (first) entries.push({ type: 'hardlink', path: rel, target: first });
          else {
            seen.set(inode, rel);
            entries.push({ type: 'file', path: rel, content: readFileSync(path), mode: st.mode & 0o777 });
            if (isElf(path)) elves.push(path);
          }
        }
      }
    };
    walk(core);
    if (existsSync('/usr/share/git-core/templates')) {
      entries.push({ type: 'directory', path: 'usr/share' }, { type: 'directory', path: 'usr/share/git-core' }, { type: 'directory', path: 'usr/share/git-core/templates' });
      walk('/usr/share/git-core/templates');
    }
    const libs = sharedLibraries(elves);
    const extra: Record<string, Buffer> = libraryEntries(libs);
    const ca = '/etc/ssl/certs/ca-certificates.crt';
    if (existsSync(ca)) extra[ca] = readFileSync(ca);
    return buildLayer([...withModes(fileEntries(extra), new Set(libs)), ...entries], BIG_LAYER_GZIP_LEVEL);
  })();
  return gitLayerPromise;
}

let bundlePromise: Promise<BuiltLayer> | undefined;

/** src/resources/cli.ts bundled into /opt/jetway/cli.js (built once per process). */
export function jetwayBundleLayer(): Promise<BuiltLayer> {
  bundlePromise ??= (async () => {
    const out = { contents: await bundleResourcesCli() };
    return buildLayer(fileEntries({ '/opt/jetway/cli.js': Buffer.from(out.contents), '/opt/jetway/package.json': '{"type":"module"}\n' }));
  })();
  return bundlePromise;
}

export async function scriptsLayer(type: string): Promise<BuiltLayer> {
  const script = (name: string): string => `#!/bin/sh\nexec /usr/local/bin/node /opt/jetway/cli.js '${type}' ${name} "$@"\n`;
  return buildLayer(fileEntries({ '/opt/resource/check': script('check'), '/opt/resource/in': script('in'), '/opt/resource/out': script('out') }, 0o755));
}

/** The image of one resource type. */
export async function buildResourceTypeImage(type: ResourceTypeName): Promise<BuiltImage> {
  const layers = [await busyboxLayer(), await runtimeLayer()];
  if (type === 'git') layers.push(await gitLayer());
  layers.push(await jetwayBundleLayer(), await scriptsLayer(type));
  return assembleImage(layers, { env: [DEFAULT_PATH], cmd: ['sh'] });
}
