import type { Context } from 'koa';
import type { Services } from '../http/services.js';
import { ProtocolError, invalidToken } from '../protocol/errors.js';
import { bearerToken } from '../protocol/bearer.js';

/** Who is calling the UMA protection API: a resource server acting for one resource owner. */
export interface ProtectionCaller {
  ownerId: string;
  resourceServerId: string;
}

/**
 * UMA Federated Authorization §1.3: the protection API takes a PAT — an access token with scope
 * `uma_protection` that the owner granted to the resource server through the code flow.
 */
export async function requireProtectionToken(services: Services, ctx: Context): Promise<ProtectionCaller> {
  const token = await services.tokenService.verifyAccessToken(bearerToken(ctx.get('Authorization')));
  if (!token) throw invalidToken();
  if (!token.scope.split(' ').includes('uma_protection') || !token.sub || token.sub === token.client_id) {
    throw new ProtocolError(403, 'insufficient_scope', 'a protection API token (scope uma_protection, granted by the resource owner) is required', {
      'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="uma_protection"',
    });
  }
  return { ownerId: token.sub, resourceServerId: token.client_id };
}
