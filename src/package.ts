// The installed Jetway package: where its files are, and whether a bundle written by `npm install`
// (the prepare script) still matches the sources. Paths are found from the package root, not from
// this module's location, so the same code works from the TypeScript sources and from a bundle in
// dist/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory holding Jetway's package.json (found by walking up from this module). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'jetway') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Jetway's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path inside the package. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

/** The newest modification time of any file under dir (milliseconds). */
export function newestModification(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether a bundle exists and is at least as new as every source file (a stale one is never used). */
export function bundleIsFresh(bundle: string): boolean {
  try {
    return statSync(bundle).mtimeMs >= newestModification(packagePath('src'));
  } catch {
    return false;
  }
}
