import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { authorizationCodeGrant } from '../oauth/grants/authorization-code.js';
import { clientCredentialsGrant } from '../oauth/grants/client-credentials.js';
import { refreshTokenGrant } from '../oauth/grants/refresh-token.js';
import { TOKEN_EXCHANGE_GRANT, tokenExchangeGrant } from '../oauth/grants/token-exchange.js';
import type { GrantHandler } from '../oauth/grants/types.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import { UMA_TICKET_GRANT, umaTicketGrant } from '../uma/grant.js';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import { formOf } from './pages.js';

/** Each grant takes what it declares; the endpoint hands it all the services. */
export const GRANT_HANDLERS: Record<string, GrantHandler<Services>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  [UMA_TICKET_GRANT]: umaTicketGrant,
  [TOKEN_EXCHANGE_GRANT]: tokenExchangeGrant,
};

/** The body of a form-encoded, client-authenticated endpoint (token, introspection, revocation). */
export async function authenticatedForm(services: Services, ctx: Context): Promise<{ client: ClientDocument; form: Record<string, unknown> }> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw invalidRequest('the body must be application/x-www-form-urlencoded');
  const form = formOf(ctx);
  const client = await services.authenticateClient({ authorization: ctx.get('Authorization') || undefined, body: form, address: ctx.ip });
  return { client, form };
}

/** RFC 6749 §3.2: the token endpoint. */
export function tokenRoutes(router: Router, services: Services): void {
  router.post('/token', async (ctx) => {
    ctx.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const { client, form } = await authenticatedForm(services, ctx);
    const grantType = requireParam(readParams(form, ['grant_type'] as const), 'grant_type');
    const handler = GRANT_HANDLERS[grantType];
    if (!handler) throw unsupportedGrantType(grantType);
    if (!client.metadata.grant_types.includes(grantType)) throw unauthorizedClient(`the client is not registered for ${grantType}`);
    ctx.body = await handler(services, client, form);
  });
}
