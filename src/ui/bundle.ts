// The web UI's browser bundle: src/ui/app (TypeScript and CSS) through esbuild into one script
// and one stylesheet. `npm install` writes them to dist/ui (scripts/bundle.ts); the web node
// serves those while they are at least as new as every file under src/ui/app, and otherwise
// builds the same in memory (an edited checkout works without a rebuild).
import { statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { newestModification, packagePath } from '../package.ts';

export interface UiAssets {
  js: string;
  css: string;
}

export const UI_JS = 'app.js';
export const UI_CSS = 'style.css';

/** Where the UI's sources are. */
export function uiSourceDir(): string {
  return packagePath('src', 'ui', 'app');
}

/**
 * The modules outside the UI's directory that the bundle takes (pure ones it shares with the API
 * and the jetway command), relative to that directory, as the UI's imports name them.
 */
export const UI_SHARED_SOURCES = ['../../api/wire.ts', '../../api/sse-parser.ts'] as const;

/** The newest modification time of the UI's sources: its directory and the shared modules. */
export function uiSourcesModified(sourceDir = uiSourceDir()): number {
  let newest = newestModification(sourceDir);
  for (const shared of UI_SHARED_SOURCES) {
    try {
      newest = Math.max(newest, statSync(join(sourceDir, shared)).mtimeMs);
    } catch {
      // missing: the build fails and says which import it could not resolve
    }
  }
  return newest;
}

/** Where `npm install` writes the bundle. */
export function uiDistDir(): string {
  return packagePath('dist', 'ui');
}

/** Bundles the UI in memory (nothing is written). */
export async function buildUiAssets(sourceDir = uiSourceDir()): Promise<UiAssets> {
  // loaded on demand: a web node serving a fresh dist/ui never needs esbuild
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: join(sourceDir, 'main.ts'), style: join(sourceDir, 'style.css') },
    bundle: true,
    write: false,
    // not written; esbuild names the outputs after it
    outdir: join(sourceDir, 'out'),
    platform: 'browser',
    format: 'iife',
    target: ['chrome120', 'firefox121', 'safari17'],
    tsconfig: join(sourceDir, 'tsconfig.json'),
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const find = (name: string): string => {
    const file = result.outputFiles.find((f) => basename(f.path) === name);
    if (!file) throw new Error(`esbuild wrote no ${name}`);
    return file.text;
  };
  return { js: find(UI_JS), css: find(UI_CSS) };
}

/** Writes the bundle to outdir (app.js, style.css); returns the paths written. */
export async function writeUiBundle(outdir = uiDistDir(), sourceDir = uiSourceDir()): Promise<string[]> {
  const assets = await buildUiAssets(sourceDir);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const js = join(outdir, UI_JS);
  const css = join(outdir, UI_CSS);
  await writeFile(js, assets.js);
  await writeFile(css, assets.css);
  return [js, css];
}

/** Whether a written bundle exists and is at least as new as every UI source file. */
export function uiBundleIsFresh(distDir = uiDistDir(), sourceDir = uiSourceDir()): boolean {
  try {
    const written = Math.min(statSync(join(distDir, UI_JS)).mtimeMs, statSync(join(distDir, UI_CSS)).mtimeMs);
    return written >= uiSourcesModified(sourceDir);
  } catch {
    return false;
  }
}
