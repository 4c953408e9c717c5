import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Services } from './services.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import { umaTicketGrant } from '../uma/grant.js';
import { invalidRequest, invalidToken, unsupportedMediaType } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import { claimsInteractionEndpoint } from './uma-claims.js';
import { bearerCaller, requireBearer } from './middleware/bearer.js';

/**
 * The legacy HIE of One UMA endpoints, a compatibility layer over the UMA 2.0 core:
 *
 * - `requesting_party_claims_endpoint` `GET /rqp_claims`: the claims interaction endpoint under its
 *   old name; HIE of One used the same parameters (`client_id`, `ticket`, `claims_redirect_uri`,
 *   `state`) and the same `authorization_state=claims_submitted` on the way back.
 * - `rpt_endpoint` `POST /authz_request`: the client presents an AAT (an access token with scope
 *   `uma_authorization`, e.g. from client_credentials) as bearer and `{"ticket": …}` (JSON or a form;
 *   `rpt` to upgrade one); the answer is the `uma-ticket` grant's for the AAT's client, the RPT
 *   under UMA 1.0's name `rpt` and HIE of One's `access_token`. Errors are the grant's UMA errors.
 */
export function hieOfOneRoutes(router: Router, services: Services): void {
  router.get('/rqp_claims', claimsInteractionEndpoint(services));

  router.post('/authz_request', legacyNoCache, requireBearer(services, 'uma_authorization'), async (ctx) => {
    const client = await aatClient(services, ctx);
    const params = readParams(requestBody(ctx), ['ticket', 'rpt'] as const);
    const ticket = requireParam(params, 'ticket');
    const granted = await umaTicketGrant(services, client, { ticket, ...(params.rpt ? { rpt: params.rpt } : {}) });
    ctx.body = {
      rpt: granted.access_token,
      access_token: granted.access_token,
      token_type: granted.token_type,
      expires_in: granted.expires_in,
      ...(granted.pct ? { pct: granted.pct } : {}),
      ...(granted.upgraded ? { upgraded: true } : {}),
    };
  });
}

/** RFC 6749 §5.1's no-store, and HIE of One's Pragma, on every answer of the RPT endpoint (refusals included). */
async function legacyNoCache(ctx: Context, next: Next): Promise<void> {
  ctx.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  await next();
}

/** The client an AAT was issued to (the gate let in a live token for this server with scope uma_authorization). */
async function aatClient(services: Services, ctx: Context): Promise<ClientDocument> {
  const client = await services.clients.byId(bearerCaller(ctx).clientId);
  if (!client) throw invalidToken('the client of this token no longer exists');
  return client;
}

function requestBody(ctx: Context): Record<string, unknown> {
  if (!ctx.is('application/json', 'application/x-www-form-urlencoded')) throw unsupportedMediaType('the request body must be application/json');
  const body = ctx.request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('the request body must be a JSON object');
  return body as Record<string, unknown>;
}
