import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { claimsFor } from '../oauth/token-service.js';
import { invalidToken } from '../protocol/errors.js';
import { bearerCaller, requireBearer } from './middleware/bearer.js';

/** OpenID Connect Core §5.3: the user's claims for the scopes the access token carries (scope openid, §5.3.1). */
export function userinfoRoutes(router: Router, services: Services): void {
  const userinfo = async (ctx: Context) => {
    const { sub, scopes } = bearerCaller(ctx);
    const account = sub ? await services.accounts.byId(sub) : null;
    if (!account) throw invalidToken('the account of this token no longer exists');
    ctx.body = claimsFor(account, scopes, services.config.fhirBaseUrls[0]);
  };
  const openid = requireBearer(services, 'userinfo');
  router.get('/userinfo', openid, userinfo);
  router.post('/userinfo', openid, userinfo);
}
