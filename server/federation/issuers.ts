import type { UpstreamProviderConfig } from '../config/config.js';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

/**
 * The issuer an upstream provider's identities are recorded under (known without fetching
 * anything): Google's for the preset, the configured one, or for a plain OAuth 2 provider without
 * one a name of its own. Identities are keyed by issuer + subject, so no two providers may share one.
 */
export function upstreamIssuer(provider: Pick<UpstreamProviderConfig, 'id' | 'type' | 'issuer'>): string {
  if (provider.type === 'google') return GOOGLE_ISSUER;
  return provider.issuer ?? `urn:assent:upstream:${provider.id}`;
}
