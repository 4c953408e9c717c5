import type { UpstreamProviderConfig } from '../config/config.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';
import { FederationError } from './provider-metadata.js';

/**
 * The requesting party that an upstream provider's verified claims (a validated ID token, or
 * userinfo) describe, as the claims policy sees it: `iss` is the provider's issuer, `sub` its
 * subject, the email as the provider gave it (the policy compares case-insensitively), and
 * `email_verified` true only for the provider's explicit boolean `true` — anything else an
 * unverified email. `claimMapping` ({ local name: upstream claim }) adds configured extra claims.
 */
export function partyFromUpstreamClaims(issuer: string, provider: UpstreamProviderConfig, claims: Record<string, unknown>): RequestingParty {
  // Plain OAuth 2 userinfo (GitHub-style) often has a numeric id.
  const sub = typeof claims.sub === 'string' ? claims.sub : typeof claims.sub === 'number' ? String(claims.sub) : '';
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
