import type Router from '@koa/router';
import { smartConfiguration } from '../smart/configuration.js';

/**
 * `GET /.well-known/smart-configuration`: always JSON, whatever the Accept header (SMART App
 * Launch 2.2 §2.0.1); readable from any origin (the CORS middleware covers /.well-known/).
 */
export function smartConfigurationRoutes(router: Router, deps: { metadata: Record<string, unknown>; issuer: string }): void {
  const document = smartConfiguration(deps.metadata, `${deps.issuer}/account`);
  router.get('/.well-known/smart-configuration', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = document;
  });
}
