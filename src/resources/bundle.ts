// The built-in resource types as one JavaScript file (esbuild): what resource processes run, so a
// check starts in a fraction of the CPU time that loading TypeScript through tsx takes, and what
// Jetway's resource-type images carry.
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { packagePath } from '../package.ts';

// from the package root, not this module: `jetway images push` bundles it from dist/cli too
const ENTRY = packagePath('src', 'resources', 'cli.ts');

/** The bundled protocol entry point (`<type> <check|in|out> [dir]`), an ES module. */
export async function bundleResourcesCli(): Promise<Buffer> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    outfile: 'cli.js',
    // its comments name modules relative to this directory: the same bundle from any working directory
    absWorkingDir: packagePath(),
    logLevel: 'silent',
    legalComments: 'none',
    // tells src/resources/command.ts it runs inside this bundle (which is renamed inside images)
    define: { __JETWAY_RESOURCES_BUNDLE__: 'true' },
    // CommonJS dependencies call require(): give the ESM bundle one
    banner: { js: "import { createRequire as __jetwayCreateRequire } from 'node:module';\nconst require = __jetwayCreateRequire(import.meta.url);" },
  });
  const out = result.outputFiles.find((f) => f.path.endsWith('cli.js'));
  if (!out) throw new Error('esbuild produced no cli.js');
  return Buffer.from(out.contents);
}

/** Writes the bundle where resourceCommand looks for it. */
export async function writeResourcesBundle(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await bundleResourcesCli());
}
