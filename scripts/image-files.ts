// Writes the files Jetway's own layers hold into a directory, for the Dockerfile (its build stage
// runs this), so an image built with Docker carries exactly what `jetway images push` puts in its
// Jetway layers (src/packaging/images.ts):
//   OUT/web/opt/jetway/...                 the web node (package.json, dist/, migrations)
//   OUT/resources/opt/jetway/cli.js        the resource types' bundle
//   OUT/<type>-resource/opt/resource/...   each built-in type's check, in and out
// Usage: tsx scripts/image-files.ts OUT
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TarEntry } from '../src/images/layers.ts';
import { RESOURCE_TYPES, resourceBundleEntries, scriptsEntries, webEntries } from '../src/packaging/images.ts';
import { sortEntries } from '../src/packaging/oci-build.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/image-files.ts OUT');
  process.exit(2);
}

function write(root: string, entries: TarEntry[]): void {
  for (const e of sortEntries(entries)) {
    const path = join(root, e.path);
    if (e.type === 'directory') mkdirSync(path, { recursive: true, mode: e.mode ?? 0o755 });
    else if (e.type === 'file') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, e.content, { mode: e.mode ?? 0o644 });
    } else if (e.type === 'symlink') symlinkSync(e.target, path);
    else throw new Error(`${e.path}: hard links are not written here`);
  }
}

write(join(out, 'web'), (await webEntries()).filter((e) => e.path.startsWith('opt/')));
write(join(out, 'resources'), await resourceBundleEntries());
for (const type of RESOURCE_TYPES) write(join(out, `${type}-resource`), scriptsEntries(type));
console.log(`wrote the image files into ${out}`);
