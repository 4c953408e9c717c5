export const GOOGLE_ISSUER = 'https://accounts.google.com';

/**
 * What the issuer of a provider's identities follows from: the provider's part of its
 * configuration (config.ts's UpstreamProviderConfig, which config.ts checks with this function,
 * so the type is spelled here and config.ts imports nothing else from federation/).
 */
export interface IssuerSource {
  id: string;
  type: 'google' | 'oidc' | 'oauth2';
  issuer?: string;
}

/**
 * The issuer an upstream provider's identities are recorded under (known without fetching
 * anything): Google's for the preset, the configured one, or for a plain OAuth 2 provider without
 * one a name of its own. Identities are keyed by issuer + subject, so no two providers may share one.
 */
export function upstreamIssuer(provider: IssuerSource): string {
  if (provider.type === 'google') return GOOGLE_ISSUER;
  return provider.issuer ?? `urn:assent:upstream:${provider.id}`;
}
