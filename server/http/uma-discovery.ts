import type Router from '@koa/router';
import type { Services } from './services.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import { readParams, requireParam } from '../protocol/params.js';
import { notFound } from '../protocol/errors.js';
import { umaProtectionMetadata } from './uma-protection.js';

const ISSUER_REL = 'http://openid.net/specs/connect/1.0/issuer';

/**
 * `/.well-known/uma2-configuration` (UMA Grant §2 + Federated Authorization §2): the server's
 * metadata plus the UMA endpoints; and WebFinger (RFC 7033) so a resource server or client can
 * find the authorization server of `acct:alice@example.org`.
 */
export function umaDiscoveryRoutes(router: Router, services: Services, metadata: Record<string, unknown>): void {
  const { issuer } = services.config;
  const uma = {
    ...metadata,
    claims_interaction_endpoint: `${issuer}/uma/claims`,
    uma_profiles_supported: [],
    ...umaProtectionMetadata(issuer),
    // HIE of One's names for the legacy endpoints served over the same core.
    requesting_party_claims_endpoint: `${issuer}/rqp_claims`,
    rpt_endpoint: `${issuer}/authz_request`,
  };
  router.get('/.well-known/uma2-configuration', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = uma;
  });

  router.get('/.well-known/webfinger', async (ctx) => {
    const params = readParams(ctx.query, ['resource'] as const);
    const resource = requireParam(params, 'resource');
    const email = resource.startsWith('acct:') ? normalizeEmail(resource.slice(5)) : undefined;
    const account = email ? await services.accounts.byEmail(email) : null;
    if (!account) throw notFound('no such account');
    const rels = ([] as unknown[]).concat(ctx.query.rel ?? []);
    ctx.type = 'application/jrd+json';
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = {
      subject: `acct:${account.email}`,
      links: rels.length === 0 || rels.includes(ISSUER_REL) ? [{ rel: ISSUER_REL, href: issuer }] : [],
    };
  });
}
