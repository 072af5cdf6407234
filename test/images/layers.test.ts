import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { RootfsBuilder, createTar, type TarEntry } from '../../src/images/layers.ts';

const dirs: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-layers-'));
  dirs.push(dir);
  return join(dir, 'rootfs');
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function build(layers: TarEntry[][], gzip = true): Promise<string> {
  const root = tempRoot();
  const builder = new RootfsBuilder(root);
  for (const layer of layers) {
    const tar = createTar(layer);
    await builder.applyLayer(Readable.from([gzip ? gzipSync(tar) : tar]));
  }
  builder.finish();
  return root;
}

describe('RootfsBuilder', () => {
  it('applies layers in order, later files win', async () => {
    const root = await build([
      [
        { type: 'directory', path: 'etc' },
        { type: 'file', path: 'etc/os-release', content: 'one\n' },
        { type: 'file', path: 'bin/tool', content: '#!/bin/sh\n', mode: 0o755 },
      ],
      [{ type: 'file', path: 'etc/os-release', content: 'two\n' }],
    ]);
    assert.equal(readFileSync(join(root, 'etc/os-release'), 'utf8'), 'two\n');
    assert.equal(statSync(join(root, 'bin/tool')).mode & 0o777, 0o755);
  });

  it('honours .wh. whiteouts of files and whole directories', async () => {
    const root = await build([
      [
        { type: 'file', path: 'a/keep', content: 'k' },
        { type: 'file', path: 'a/gone', content: 'g' },
        { type: 'file', path: 'tree/deep/x', content: 'x' },
      ],
      [
        { type: 'file', path: 'a/.wh.gone', content: '' },
        { type: 'file', path: '.wh.tree', content: '' },
      ],
    ]);
    assert.deepEqual(readdirSync(join(root, 'a')), ['keep']);
    assert.equal(existsSync(join(root, 'tree')), false);
    assert.equal(existsSync(join(root, 'a/.wh.gone')), false, 'whiteout markers are not written');
  });

  it('honours the opaque whiteout: the lower layers are hidden, the same layer stays', async () => {
    const root = await build([
      [
        { type: 'file', path: 'opq/old1', content: '1' },
        { type: 'file', path: 'opq/sub/old2', content: '2' },
        { type: 'file', path: 'other/stays', content: 's' },
      ],
      [
        { type: 'directory', path: 'opq' },
        { type: 'file', path: 'opq/.wh..wh..opq', content: '' },
        { type: 'file', path: 'opq/new', content: 'n' },
      ],
    ]);
    assert.deepEqual(readdirSync(join(root, 'opq')), ['new']);
    assert.deepEqual(readdirSync(join(root, 'other')), ['stays']);
  });

  it('replaces a directory with a file and a file with a directory', async () => {
    const root = await build([
      [
        { type: 'file', path: 'd/inner', content: 'i' },
        { type: 'file', path: 'f', content: 'f' },
      ],
      [
        { type: 'file', path: 'd', content: 'now a file' },
        { type: 'file', path: 'f/inner', content: 'now a dir' },
      ],
    ]);
    assert.equal(readFileSync(join(root, 'd'), 'utf8'), 'now a file');
    assert.equal(readFileSync(join(root, 'f/inner'), 'utf8'), 'now a dir');
  });

  it('writes symbolic and hard links, and never writes outside the root', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'jetway-layers-outside-'));
    dirs.push(outside);
    const root = await build(
      [
        [
          { type: 'file', path: 'data/file', content: 'content' },
          { type: 'symlink', path: 'link', target: 'data/file' },
          { type: 'hardlink', path: 'hard', target: 'data/file' },
          { type: 'symlink', path: 'escape', target: outside },
          { type: 'symlink', path: 'up', target: '../../..' },
        ],
        [
          { type: 'file', path: 'escape/planted', content: 'bad' },
          { type: 'file', path: 'up/planted2', content: 'bad' },
          { type: 'file', path: '../../planted3', content: 'bad' },
        ],
      ],
      false,
    );
    assert.equal(readlinkSync(join(root, 'link')), 'data/file');
    assert.equal(readFileSync(join(root, 'hard'), 'utf8'), 'content');
    assert.equal(lstatSync(join(root, 'hard')).nlink, 2);
    assert.deepEqual(readdirSync(outside), [], 'nothing written through an absolute symlink');
    assert.equal(existsSync(join(root, outside, 'planted')), true, 'an absolute link target is the root’s');
    assert.equal(existsSync(join(root, 'planted2')), true, '.. stops at the root');
    assert.equal(existsSync(join(root, 'planted3')), true);
    assert.equal(existsSync(join(root, '..', 'planted3')), false);
  });

  it('keeps a read-only directory writable until finish()', async () => {
    const root = await build([
      [{ type: 'directory', path: 'ro', mode: 0o555 }],
      [{ type: 'file', path: 'ro/late', content: 'l' }],
    ]);
    assert.equal(readFileSync(join(root, 'ro/late'), 'utf8'), 'l');
    assert.equal(statSync(join(root, 'ro')).mode & 0o777, 0o555);
  });

  it('fails on a corrupt layer', async () => {
    const builder = new RootfsBuilder(tempRoot());
    const tar = gzipSync(createTar([{ type: 'file', path: 'x', content: 'x' }]));
    await assert.rejects(builder.applyLayer(Readable.from([tar.subarray(0, tar.length - 12)])));
  });
});
