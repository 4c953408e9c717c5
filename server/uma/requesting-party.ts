import { decodeJwt, jwtVerify } from 'jose';
import type { Services } from '../app.js';
import type { UpstreamProviderConfig } from '../config/config.js';
import { hashSecret } from '../crypto/secrets.js';
import { FederationError } from '../federation/provider-metadata.js';
import { partyFromUpstreamClaims } from '../federation/upstream-party.js';
import { ProtocolError } from '../http/errors.js';
import type { AccountDocument } from '../store/repositories/accounts.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';

export const ID_TOKEN_FORMAT = 'http://openid.net/specs/openid-connect-core-1_0.html#IDToken';

/** The claims a local Assent account proves about itself. */
export function partyFromAccount(issuer: string, account: AccountDocument): RequestingParty {
  return { iss: issuer, sub: account._id, email: account.email, email_verified: account.emailVerified, name: account.name };
}

/**
 * A pushed claim token (UMA Grant §3.3.1): an OpenID Connect ID token this server issued to the
 * pushing client, or one from a configured upstream provider trusted for claim tokens
 * (`trustClaimTokens`), verified against that provider's keys. Anything else is `invalid_grant`;
 * nothing unverified reaches the claims policy.
 */
export async function partyFromClaimToken(services: Services, clientId: string, token: string, format: string | undefined): Promise<RequestingParty> {
  if (format !== ID_TOKEN_FORMAT) throw new ProtocolError(400, 'invalid_request', `claim_token_format must be ${ID_TOKEN_FORMAT}`);
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    issuer = undefined;
  }
  const upstream = typeof issuer === 'string' && issuer !== services.config.issuer ? services.upstream.byIssuer(issuer) : undefined;
  if (upstream) return partyFromUpstreamIdToken(services, upstream, token);
  try {
    const { payload } = await jwtVerify(token, async (header) => services.keys.verificationKey(header.kid), {
      issuer: services.config.issuer,
      audience: clientId,
      algorithms: ['ES256', 'ES384', 'RS256', 'RS384'],
    });
    if (!payload.sub) throw new Error('no sub');
    const account = await services.accounts.byId(payload.sub);
    if (!account) throw new Error('unknown account');
    return partyFromAccount(services.config.issuer, account);
  } catch {
    throw new ProtocolError(400, 'invalid_grant', 'the claim token is not a valid ID token issued to this client');
  }
}

/** The audiences an upstream ID token must be issued to for Assent to accept it. */
export function upstreamAudiences(provider: UpstreamProviderConfig): string[] {
  return provider.acceptedAudiences?.length ? provider.acceptedAudiences : [provider.clientId];
}

/**
 * Verifies an ID token of a trusted upstream provider (`trustClaimTokens`) and returns the party it
 * proves. Every failure (untrusted provider, bad token, provider unreachable) is `invalid_grant`.
 */
export async function partyFromUpstreamIdToken(services: Services, provider: UpstreamProviderConfig, token: string): Promise<RequestingParty> {
  if (!provider.trustClaimTokens) throw new ProtocolError(400, 'invalid_grant', `ID tokens of ${provider.displayName} are not accepted as claim tokens`);
  try {
    const payload = await services.upstream.verifyIdToken(provider.id, token, { audiences: upstreamAudiences(provider) });
    return partyFromUpstreamClaims(payload.iss, provider, payload);
  } catch (error) {
    if (error instanceof FederationError) {
      services.logger.info('upstream claim token rejected', { provider: provider.id, code: error.code, reason: error.message });
      const description =
        error.code === 'provider_unavailable' ? `${provider.displayName} could not be reached to verify the token` : `the ID token from ${provider.displayName} is not valid`;
      throw new ProtocolError(400, 'invalid_grant', description);
    }
    throw error;
  }
}

/** A persisted claims token this server gave the same client earlier. */
export async function partyFromPct(services: Services, clientId: string, pct: string): Promise<RequestingParty> {
  const doc = await services.uma.pcts.findOne({ _id: hashSecret(pct), clientId });
  if (!doc) throw new ProtocolError(400, 'invalid_grant', 'the pct is invalid or expired');
  return doc.requestingParty;
}
