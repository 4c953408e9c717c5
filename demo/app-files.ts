import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';

const APP_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app');
/** fhirclient's own browser build, served from node_modules (no CDN, no bundling step). */
const FHIR_CLIENT = path.join(path.dirname(createRequire(import.meta.url).resolve('fhirclient/package.json')), 'build/fhir-client.min.js');

const FILES: Record<string, { file: string; type: string }> = {
  '/app/': { file: path.join(APP_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app/app.js': { file: path.join(APP_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/app/fhir-client.js': { file: FHIR_CLIENT, type: 'text/javascript; charset=utf-8' },
};

/** The one-page SMART app: its page, its script and fhirclient; `/` and `/app` lead to the page. */
export function appRouter(): Router {
  // strict: /app and /app/ are two routes, so the redirect does not answer the page itself.
  const router = new Router({ strict: true });
  router.get(['/', '/app'], (ctx) => ctx.redirect('/app/'));
  for (const [route, { file, type }] of Object.entries(FILES)) {
    router.get(route, async (ctx) => {
      ctx.type = type;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = await readFile(file);
    });
  }
  return router;
}
