import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { bearerToken } from '../protocol/bearer.js';
import { claimsFor } from '../oauth/token-service.js';
import { ProtocolError, invalidToken } from '../protocol/errors.js';

/** OpenID Connect Core §5.3: the user's claims for the scopes the access token carries. */
export function userinfoRoutes(router: Router, services: Services): void {
  const userinfo = async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    const payload = await services.tokenService.verifyAccessToken(bearerToken(ctx.get('Authorization')));
    if (!payload) throw invalidToken();
    const scopes = payload.scope.split(' ');
    if (!scopes.includes('openid')) {
      throw new ProtocolError(403, 'insufficient_scope', 'the access token lacks the openid scope', { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="openid"' });
    }
    const account = payload.sub ? await services.accounts.byId(payload.sub) : null;
    if (!account) throw invalidToken('the account of this token no longer exists');
    ctx.body = claimsFor(account, scopes);
  };
  router.get('/userinfo', userinfo);
  router.post('/userinfo', userinfo);
}
