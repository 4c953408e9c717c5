import { decodeJwt } from 'jose';
import type { UpstreamProviderConfig } from '../config/config.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';
import { FederationError, type ProviderMetadata } from './provider-metadata.js';

/**
 * The requesting party that an upstream provider's verified claims (a validated ID token, or
 * userinfo) describe, as the claims policy sees it: `iss` is the provider's issuer, `sub` its
 * subject, the email as the provider gave it (the policy compares case-insensitively), and
 * `email_verified` true only for the provider's explicit boolean `true` — anything else an
 * unverified email. `claimMapping` ({ local name: upstream claim }) adds configured extra claims;
 * a plain OAuth 2 provider's `subjectClaim` names its identifier.
 */
export function partyFromUpstreamClaims(issuer: string, provider: UpstreamProviderConfig, claims: Record<string, unknown>): RequestingParty {
  // A plain OAuth 2 user endpoint may name its identifier otherwise, often as a number (GitHub: `id`).
  const subject = claims[provider.type === 'oauth2' ? (provider.subjectClaim ?? 'sub') : 'sub'];
  const sub = typeof subject === 'string' ? subject : typeof subject === 'number' && Number.isSafeInteger(subject) ? String(subject) : '';
  if (!sub) throw new FederationError('invalid_token', 'the provider did not say who signed in (no sub)');
  const party: RequestingParty = { iss: issuer, sub };
  if (typeof claims.email === 'string' && claims.email.includes('@')) {
    party.email = claims.email.trim();
    party.email_verified = claims.email_verified === true;
  }
  if (typeof claims.name === 'string' && claims.name) party.name = claims.name;
  const extra: Record<string, string> = {};
  for (const [local, upstream] of Object.entries(provider.claimMapping ?? {})) {
    const value = claims[upstream];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') extra[local] = String(value);
  }
  if (Object.keys(extra).length > 0) party.claims = extra;
  return party;
}

/** The configured OpenID provider whose issuer a JWT names (unverified: only to pick the keys), if any. */
export function upstreamProviderOf(upstream: ProviderMetadata, token: string): UpstreamProviderConfig | undefined {
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    return undefined;
  }
  const provider = typeof issuer === 'string' ? upstream.byIssuer(issuer) : undefined;
  return provider?.type === 'oauth2' ? undefined : provider;
}

/**
 * An upstream ID token that client `clientId` presents (a UMA claim token, an RFC 8693 subject
 * token): accepted only when its azp / aud is an audience this client may present
 * (`claimTokenAudiences`) and it verifies against the provider's keys. Failures are
 * FederationErrors whose message suits the client (`presentedTokenRefusal`).
 */
export async function partyFromPresentedIdToken(upstream: ProviderMetadata, provider: UpstreamProviderConfig, token: string, clientId: string): Promise<RequestingParty> {
  const audiences = upstream.audiencesFor(provider, clientId);
  if (audiences.length === 0) throw new FederationError('not_accepted', `ID tokens of ${provider.displayName} are not accepted from this client`);
  const payload = await upstream.verifyIdToken(provider.id, token, { audiences });
  return partyFromUpstreamClaims(payload.iss, provider, payload);
}

/** What to tell the client that presented a refused upstream ID token. */
export function presentedTokenRefusal(provider: UpstreamProviderConfig, error: FederationError): string {
  if (error.code === 'not_accepted') return error.message;
  if (error.code === 'provider_unavailable') return `${provider.displayName} could not be reached to verify the token`;
  return `the ID token from ${provider.displayName} is not valid`;
}
