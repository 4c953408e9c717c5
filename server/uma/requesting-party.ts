import { jwtVerify } from 'jose';
import type { Services } from '../http/services.js';
import { hashSecret } from '../crypto/secrets.js';
import { FederationError } from '../federation/provider-metadata.js';
import { partyFromPresentedIdToken, presentedTokenRefusal, upstreamProviderOf } from '../federation/upstream-party.js';
import { ProtocolError } from '../protocol/errors.js';
import type { AccountDocument } from '../store/repositories/accounts.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';

export const ID_TOKEN_FORMAT = 'http://openid.net/specs/openid-connect-core-1_0.html#IDToken';

/** The claims a local Assent account proves about itself. */
export function partyFromAccount(issuer: string, account: AccountDocument): RequestingParty {
  return { iss: issuer, sub: account._id, email: account.email, email_verified: account.emailVerified, name: account.name };
}

/**
 * A pushed claim token (UMA Grant §3.3.1): an OpenID Connect ID token this server issued to the
 * pushing client, or one from a configured upstream provider issued to an audience this client
 * may present (`claimTokenAudiences`), verified against that provider's keys. Anything else is `invalid_grant`;
 * nothing unverified reaches the claims policy.
 */
export async function partyFromClaimToken(services: Services, clientId: string, token: string, format: string | undefined): Promise<RequestingParty> {
  if (format !== ID_TOKEN_FORMAT) throw new ProtocolError(400, 'invalid_request', `claim_token_format must be ${ID_TOKEN_FORMAT}`);
  const upstream = upstreamProviderOf(services.upstream, token);
  if (upstream) {
    try {
      return await partyFromPresentedIdToken(services.upstream, upstream, token, clientId);
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      services.logger.info('upstream claim token rejected', { client: clientId, provider: upstream.id, code: error.code, reason: error.message });
      throw new ProtocolError(400, 'invalid_grant', presentedTokenRefusal(upstream, error));
    }
  }
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

/**
 * The local account a requesting party is, as a fact for the claims policy: the party itself when
 * this server proved it (a local sign-in, one of our ID tokens), or the account its upstream
 * identity is linked to; undefined otherwise.
 */
export async function accountOfParty(services: Services, party: RequestingParty): Promise<string | undefined> {
  const sub = party.iss === services.config.issuer ? party.sub : (await services.identities.find(party.iss, party.sub))?.accountId;
  // A disabled account is no one's to act as; its claims tokens may outlive the disabling.
  return sub !== undefined && (await services.accounts.usable(sub)) ? sub : undefined;
}

/** A persisted claims token this server gave the same client earlier. */
export async function partyFromPct(services: Services, clientId: string, pct: string): Promise<RequestingParty> {
  const doc = await services.uma.pcts.findOne({ _id: hashSecret(pct), clientId });
  if (!doc) throw new ProtocolError(400, 'invalid_grant', 'the pct is invalid or expired');
  return doc.requestingParty;
}
