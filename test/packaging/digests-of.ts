// Prints the manifest and layer digests of each image buildImages makes, as JSON, for the
// determinism test (run in a fresh process, so no layer is shared with another build):
// tsx digests-of.ts NAME... The Node of the images is a stand-in (a small ELF file of this machine),
// so the test does not spend its time compressing 100 MB twice: the runtime layer's determinism is
// that of gzip over the same bytes; the other layers are Jetway's own code.
import { readFileSync } from 'node:fs';
import { buildImages, type ImageName } from '../../src/packaging/images.ts';

const names = process.argv.slice(2) as ImageName[];
const node = { version: 'v0-stand-in', binary: () => Promise.resolve(readFileSync('/bin/true')) };
const set = await buildImages({ busyboxPath: '/bin/busybox', allowMissingApplets: ['chpst'], node }, names);
process.stdout.write(`${JSON.stringify(Object.fromEntries(set.map((e) => [e.repository, { manifest: e.image.manifestDigest, layers: e.image.layers.map((l) => l.descriptor.digest) }])))}\n`);
