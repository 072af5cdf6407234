// Serves the web UI from the web node: the page at `/` and its script and stylesheet under
// /ui/, without a token (the page logs in through the API). The assets are dist/ui's while that
// bundle is fresh, else built in memory on first request and again whenever a source changes.
// The page names the assets with a content hash (`?v=…`), so they can be cached for good while
// the page itself is revalidated on every load.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorText } from '../log.ts';
import { buildUiAssets, UI_CSS, UI_JS, uiBundleIsFresh, uiDistDir, uiSourceDir, uiSourcesModified, type UiAssets } from './bundle.ts';

export interface UiOptions {
  /** the UI's sources (default src/ui/app) */
  sourceDir?: string;
  /** the bundle `npm install` wrote (default dist/ui) */
  distDir?: string;
}

interface Served extends UiAssets {
  /** a hash of both assets: the page's `?v=` */
  version: string;
  /** where they came from, for the log */
  origin: 'dist' | 'memory';
}

// The page runs only our own script and stylesheet and talks only to this server.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function indexHtml(version: string): string {
  // relative asset URLs: the page also works behind a proxy that serves Jetway under a path
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jetway</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="ui/${UI_CSS}?v=${version}">
<script defer src="ui/${UI_JS}?v=${version}"></script>
</head>
<body>
<noscript>Jetway's web UI needs JavaScript. The jetway command and the API (/api/v1) work without it.</noscript>
</body>
</html>
`;
}

/** The current assets: the fresh dist bundle, or an in-memory build of the current sources. */
class AssetSource {
  private cached: { key: string; assets: Promise<Served> } | undefined;

  constructor(
    private readonly sourceDir: string,
    private readonly distDir: string,
  ) {}

  current(): Promise<Served> {
    // a few stat calls per request: cheap next to a rebuild, and edits show on reload
    const fromDist = uiBundleIsFresh(this.distDir, this.sourceDir);
    const key = fromDist ? 'dist' : `memory:${uiSourcesModified(this.sourceDir)}`;
    if (this.cached?.key !== key) {
      const assets = (fromDist ? this.readDist() : this.build()).then(
        (a) => a,
        (err: unknown) => {
          if (this.cached?.assets === assets) this.cached = undefined; // the next request tries again
          throw err;
        },
      );
      this.cached = { key, assets };
    }
    return this.cached.assets;
  }

  private async readDist(): Promise<Served> {
    const [js, css] = await Promise.all([readFile(join(this.distDir, UI_JS), 'utf8'), readFile(join(this.distDir, UI_CSS), 'utf8')]);
    return served({ js, css }, 'dist');
  }

  private async build(): Promise<Served> {
    return served(await buildUiAssets(this.sourceDir), 'memory');
  }
}

function served(a: UiAssets, origin: Served['origin']): Served {
  const version = createHash('sha256').update(a.js).update('\0').update(a.css).digest('hex').slice(0, 16);
  return { ...a, version, origin };
}

export function registerUi(app: FastifyInstance, opts: UiOptions = {}): void {
  const source = new AssetSource(opts.sourceDir ?? uiSourceDir(), opts.distDir ?? uiDistDir());
  let loggedOrigin: string | undefined;

  const assets = async (req: FastifyRequest, reply: FastifyReply): Promise<Served | undefined> => {
    try {
      const a = await source.current();
      if (loggedOrigin !== `${a.origin}:${a.version}`) {
        loggedOrigin = `${a.origin}:${a.version}`;
        req.log.info({ origin: a.origin, version: a.version }, a.origin === 'dist' ? 'web UI served from dist/ui' : 'web UI built in memory (dist/ui is missing or older than src/ui/app)');
      }
      return a;
    } catch (err) {
      const message = errorText(err);
      req.log.error({ err }, 'the web UI could not be built');
      void reply.code(500).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(`the web UI could not be built: ${message}\n`);
      return undefined;
    }
  };

  app.get('/', { config: { public: true } }, async (req, reply) => {
    const a = await assets(req, reply);
    if (!a) return reply;
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .header('X-Content-Type-Options', 'nosniff')
      .header('X-Frame-Options', 'DENY')
      .header('Referrer-Policy', 'no-referrer')
      .send(indexHtml(a.version));
  });

  const asset = (name: string, type: string, body: (a: Served) => string): void => {
    app.get<{ Querystring: { v?: string } }>(`/ui/${name}`, { config: { public: true } }, async (req, reply) => {
      const a = await assets(req, reply);
      if (!a) return reply;
      const etag = `"${a.version}"`;
      // the page asks for the version it names: that URL never changes content
      const cache = req.query.v === a.version ? 'public, max-age=31536000, immutable' : 'no-cache';
      void reply.type(type).header('ETag', etag).header('Cache-Control', cache).header('X-Content-Type-Options', 'nosniff');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(body(a));
    });
  };
  asset(UI_JS, 'text/javascript; charset=utf-8', (a) => a.js);
  asset(UI_CSS, 'text/css; charset=utf-8', (a) => a.css);
}
