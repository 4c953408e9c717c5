import { jwtVerify } from 'jose';
import { hashSecret } from '../crypto/secrets.js';
import { FederationError, type ProviderMetadata } from '../federation/provider-metadata.js';
import { partyFromPresentedIdToken, presentedTokenRefusal, upstreamProviderOf } from '../federation/upstream-party.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Logger } from '../logger.js';
import { invalidGrant, invalidRequest } from '../protocol/errors.js';
import type { AccountDocument, Accounts } from '../store/repositories/accounts.js';
import type { Identities } from '../store/repositories/identities.js';
import type { Pcts, RequestingParty } from '../store/repositories/uma-requests.js';

/** What identifying a requesting party reads: this server's keys and accounts, the upstream providers, the PCTs. */
export interface PartyDeps {
  config: { issuer: string };
  logger: Logger;
  keys: Pick<KeyRing, 'verificationKey'>;
  upstream: ProviderMetadata;
  accounts: Pick<Accounts, 'byId' | 'usable'>;
  identities: Pick<Identities, 'find'>;
  uma: { pcts: Pick<Pcts, 'find'> };
}

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
export async function partyFromClaimToken(deps: PartyDeps, clientId: string, token: string, format: string | undefined): Promise<RequestingParty> {
  if (format !== ID_TOKEN_FORMAT) throw invalidRequest(`claim_token_format must be ${ID_TOKEN_FORMAT}`);
  const upstream = upstreamProviderOf(deps.upstream, token);
  if (upstream) {
    try {
      return await partyFromPresentedIdToken(deps.upstream, upstream, token, clientId);
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      deps.logger.info('upstream claim token rejected', { client: clientId, provider: upstream.id, code: error.code, reason: error.message });
      throw invalidGrant(presentedTokenRefusal(upstream, error));
    }
  }
  try {
    const { payload } = await jwtVerify(token, async (header) => deps.keys.verificationKey(header.kid), {
      issuer: deps.config.issuer,
      audience: clientId,
      algorithms: ['ES256', 'ES384', 'RS256', 'RS384'],
    });
    if (!payload.sub) throw new Error('no sub');
    const account = await deps.accounts.byId(payload.sub);
    if (!account) throw new Error('unknown account');
    return partyFromAccount(deps.config.issuer, account);
  } catch {
    throw invalidGrant('the claim token is not a valid ID token issued to this client');
  }
}

/**
 * The local account a requesting party is, as a fact for the claims policy: the party itself when
 * this server proved it (a local sign-in, one of our ID tokens), or the account its upstream
 * identity is linked to; undefined otherwise.
 */
export async function accountOfParty(deps: Pick<PartyDeps, 'config' | 'identities' | 'accounts'>, party: RequestingParty): Promise<string | undefined> {
  const sub = party.iss === deps.config.issuer ? party.sub : (await deps.identities.find(party.iss, party.sub))?.accountId;
  // A disabled account is no one's to act as; its claims tokens may outlive the disabling.
  return sub !== undefined && (await deps.accounts.usable(sub)) ? sub : undefined;
}

/** A persisted claims token this server gave the same client earlier. */
export async function partyFromPct(deps: Pick<PartyDeps, 'uma'>, clientId: string, pct: string): Promise<RequestingParty> {
  const doc = await deps.uma.pcts.find(hashSecret(pct), clientId);
  if (!doc) throw invalidGrant('the pct is invalid or expired');
  return doc.requestingParty;
}
