import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { KeyRing } from '../keys/key-ring.js';

/** Discovery documents and the public signing keys. */
export function wellKnownRoutes(router: Router, deps: { metadata: Record<string, unknown>; keys: KeyRing }): void {
  const discovery: Middleware = (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = deps.metadata;
  };
  router.get('/.well-known/openid-configuration', discovery);
  router.get('/.well-known/oauth-authorization-server', discovery);
  router.get('/jwks', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.type = 'application/jwk-set+json';
    ctx.body = await deps.keys.jwks();
  });
}
