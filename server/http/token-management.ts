import type Router from '@koa/router';
import type { Services } from './services.js';
import { introspect } from '../oauth/introspection.js';
import { revoke } from '../oauth/revocation.js';
import { readParams, requireParam } from '../protocol/params.js';
import { authenticatedForm } from './token.js';

/** RFC 7662 introspection and RFC 7009 revocation: both client-authenticated forms. */
export function tokenManagementRoutes(router: Router, services: Services): void {
  router.post('/introspect', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { client, form } = await authenticatedForm(services, ctx);
    const params = readParams(form, ['token', 'token_type_hint'] as const);
    ctx.body = await introspect(services, client, requireParam(params, 'token'));
  });

  router.post('/revoke', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { client, form } = await authenticatedForm(services, ctx);
    const params = readParams(form, ['token', 'token_type_hint'] as const);
    await revoke(services, client, requireParam(params, 'token'), params.token_type_hint);
    ctx.status = 200;
    ctx.body = '';
  });
}
