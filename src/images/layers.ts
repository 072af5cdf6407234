// Image layers: applying layer tarballs to a root file system (with OCI whiteouts), and writing
// tar archives (small in-memory ones, and streamed ones such as an OCI layout tarball).
//
// applyLayer follows the OCI image spec's layer rules:
// - `.wh.NAME` removes NAME (file or whole directory) from the layers below;
// - `.wh..wh..opq` in a directory removes everything the layers below put in it (what this layer
//   puts there stays);
// - an entry replaces what is at its path (a file over a directory removes the directory);
// - paths never leave the root file system: `..` stops at the root, and symbolic links met on the
//   way are resolved inside the root (an absolute link target means the root's, not the host's).
// Device nodes and FIFOs are skipped (they need privileges and no image tool relies on them in a
// rootfs). Ownership is applied when running as root. File writes are synchronous, one entry after
// the other, so the order of the archive is the order of the changes.
import {
  chmodSync,
  closeSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Header, Parser, Pax, type ReadEntry } from 'tar';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** State kept across the layers of one root file system. */
export class RootfsBuilder {
  /** Final modes of directories, applied by finish() (a read-only directory must stay writable while layers are applied). */
  private readonly dirModes = new Map<string, number>();
  private readonly asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Applies one layer (a tar stream, gzip/zstd compressed or not) on top of what is there. */
  async applyLayer(layer: Readable): Promise<void> {
    const createdInLayer = new Set<string>();
    const parser = new Parser({ strict: true, maxDecompressionRatio: 1e9 });
    let failure: unknown;
    parser.on('entry', (entry: ReadEntry) => {
      if (failure !== undefined) return entry.resume();
      try {
        this.applyEntry(entry, createdInLayer);
      } catch (err) {
        failure = err;
        entry.resume();
      }
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown): void => reject(err instanceof Error ? err : new Error(String(err)));
      parser.on('error', fail);
      parser.on('abort', fail);
      layer.on('error', fail);
      parser.on('end', () => resolve());
      layer.pipe(parser as unknown as NodeJS.WritableStream);
    });
    if (failure !== undefined) throw failure;
  }

  /** Applies the directory modes recorded while applying layers. Call once, after the last layer. */
  finish(): void {
    const dirs = [...this.dirModes.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [dir, mode] of dirs) {
      try {
        chmodSync(dir, mode);
      } catch {
        // removed by a later layer
      }
    }
  }

  private applyEntry(entry: ReadEntry, createdInLayer: Set<string>): void {
    const parts = splitPath(entry.path);
    const name = parts[parts.length - 1];
    if (name === undefined) return entry.resume(); // the root itself
    const parent = this.resolveParent(parts.slice(0, -1));

    if (name === OPAQUE_WHITEOUT) {
      mkdirSync(parent, { recursive: true });
      for (const child of readdirSync(parent)) {
        const path = join(parent, child);
        if (!createdInLayer.has(path)) rmSync(path, { recursive: true, force: true });
      }
      return entry.resume();
    }
    if (name.startsWith(WHITEOUT_PREFIX)) {
      if (!name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
        rmSync(join(parent, name.slice(WHITEOUT_PREFIX.length)), { recursive: true, force: true });
      }
      return entry.resume();
    }

    const target = join(parent, name);
    mkdirSync(parent, { recursive: true });
    const existing = lstatOrUndefined(target);
    const mode = (entry.mode ?? 0o644) & 0o7777;
    switch (entry.type) {
      case 'Directory': {
        if (existing && !existing.isDirectory()) unlinkSync(target);
        if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o755 });
        this.dirModes.set(target, mode);
        chmodSync(target, mode | 0o700);
        this.chown(target, entry);
        createdInLayer.add(target);
        return entry.resume();
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        replace(target, existing);
        const fd = openSync(target, 'w', 0o600);
        entry.on('data', (chunk: Buffer) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        });
        entry.on('end', () => {
          closeSync(fd);
          this.chown(target, entry);
          chmodSync(target, mode);
        });
        createdInLayer.add(target);
        return;
      }
      case 'SymbolicLink': {
        replace(target, existing);
        symlinkSync(entry.linkpath ?? '', target);
        this.chown(target, entry);
        createdInLayer.add(target);
        return entry.resume();
      }
      case 'Link': {
        const linkParts = splitPath(entry.linkpath ?? '');
        const linkName = linkParts[linkParts.length - 1];
        if (linkName === undefined) throw new Error(`layer entry ${entry.path}: hard link to the root`);
        const source = join(this.resolveParent(linkParts.slice(0, -1)), linkName);
        if (!lstatOrUndefined(source)) throw new Error(`layer entry ${entry.path}: hard link to ${entry.linkpath}, which does not exist`);
        replace(target, existing);
        linkSync(source, target);
        createdInLayer.add(target);
        return entry.resume();
      }
      default:
        // CharacterDevice, BlockDevice, FIFO, and anything unknown: skipped (see the file comment)
        return entry.resume();
    }
  }

  /**
   * The host path of a directory inside the root, following symbolic links the way a chroot would
   * (an absolute target starts again at the root, `..` stops at the root). Missing components are
   * left for the caller to create.
   */
  private resolveParent(parts: string[]): string {
    const resolved: string[] = [];
    const pending = [...parts];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const host = join(this.root, ...resolved, part);
      const stats = lstatOrUndefined(host);
      if (stats?.isSymbolicLink()) {
        if (++links > 40) throw new Error(`too many symbolic links under ${join(...parts)}`);
        const target = readlinkSync(host);
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...splitPath(target, true));
        continue;
      }
      if (stats && !stats.isDirectory()) {
        // a file where a directory is needed: the layer replaces it
        rmSync(host, { force: true });
      }
      resolved.push(part);
    }
    return join(this.root, ...resolved);
  }

  private chown(path: string, entry: ReadEntry): void {
    if (!this.asRoot) return;
    try {
      lchownSync(path, entry.uid ?? 0, entry.gid ?? 0);
    } catch {
      // best effort
    }
  }
}

/** Splits a tar path into components: `./a//b/` → [a, b]; keeps `..` only when asked. */
function splitPath(path: string, keepDotDot = false): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (keepDotDot) out.push(part);
      else out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function replace(target: string, existing: Stats | undefined): void {
  if (!existing) return;
  if (existing.isDirectory()) rmSync(target, { recursive: true, force: true });
  else unlinkSync(target);
}

// --- writing tar archives ---

export type TarEntry =
  | { type: 'file'; path: string; content: string | Uint8Array; mode?: number }
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

const EPOCH = new Date(0);

function headerBlocks(data: { path: string; type: 'File' | 'Directory' | 'SymbolicLink' | 'Link'; size: number; mode: number; linkpath?: string }): Buffer {
  const fields = { ...data, uid: 0, gid: 0, mtime: EPOCH, uname: '', gname: '' };
  const header = new Header(fields);
  const block = Buffer.alloc(512);
  const needPax = header.encode(block, 0);
  if (!needPax) return block;
  const pax = new Pax({ path: data.path, ...(data.linkpath ? { linkpath: data.linkpath } : {}), mtime: EPOCH });
  return Buffer.concat([pax.encode(), block]);
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** An uncompressed tar archive of `entries`, in order (deterministic: mtime 0, owner 0). */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'file') {
      const content = typeof e.content === 'string' ? Buffer.from(e.content) : Buffer.from(e.content);
      chunks.push(headerBlocks({ path: e.path, type: 'File', size: content.length, mode: e.mode ?? 0o644 }), content, padding(content.length));
    } else if (e.type === 'directory') {
      chunks.push(headerBlocks({ path: e.path.endsWith('/') ? e.path : `${e.path}/`, type: 'Directory', size: 0, mode: e.mode ?? 0o755 }));
    } else {
      chunks.push(headerBlocks({ path: e.path, type: e.type === 'symlink' ? 'SymbolicLink' : 'Link', size: 0, mode: 0o777, linkpath: e.target }));
    }
  }
  chunks.push(Buffer.alloc(1024));
  return Buffer.concat(chunks);
}

/** Writes a tar archive to a file entry by entry, streaming file contents of known size. */
export class TarFileWriter {
  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<TarFileWriter> {
    return new TarFileWriter(await open(path, 'w', 0o644));
  }

  async directory(path: string): Promise<void> {
    await this.handle.write(headerBlocks({ path: path.endsWith('/') ? path : `${path}/`, type: 'Directory', size: 0, mode: 0o755 }));
  }

  /** Adds a file of `size` bytes from a buffer or a stream; fails when the stream's length differs. */
  async file(path: string, size: number, content: Uint8Array | Readable): Promise<void> {
    await this.handle.write(headerBlocks({ path, type: 'File', size, mode: 0o644 }));
    let written = 0;
    if (content instanceof Uint8Array) {
      await this.handle.write(content);
      written = content.length;
    } else {
      for await (const chunk of content) {
        const buf = chunk as Buffer;
        written += buf.length;
        if (written > size) throw new Error(`${path}: more than the ${size} bytes announced`);
        await this.handle.write(buf);
      }
    }
    if (written !== size) throw new Error(`${path}: ${written} bytes, not the ${size} announced`);
    await this.handle.write(padding(size));
  }

  async close(): Promise<void> {
    await this.handle.write(Buffer.alloc(1024));
    await this.handle.close();
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
