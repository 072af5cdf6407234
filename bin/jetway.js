#!/usr/bin/env node
// The jetway command. `npm install` bundles it into dist/cli/jetway.mjs (the prepare script); while
// that bundle is at least as new as every source file it runs, else the TypeScript sources run
// through tsx's loader (a checkout being edited). JETWAY_BUNDLE=off always takes the sources.
// The freshness rule is src/package.ts's bundleIsFresh, repeated here in JavaScript because no
// TypeScript can load before this choice.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
const bundle = join(root, 'dist', 'cli', 'jetway.mjs');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function fresh() {
  try {
    return process.env.JETWAY_BUNDLE !== 'off' && statSync(bundle).mtimeMs >= newest(join(root, 'src'));
  } catch {
    return false;
  }
}

if (fresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
