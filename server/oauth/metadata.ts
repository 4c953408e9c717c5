import { CLIENT_AUTH_METHODS } from './clients/authenticate.js';
import { ID_TOKEN_ALGORITHMS } from './id-token-algorithm.js';
import { KNOWN_SCOPES } from './scopes.js';

/**
 * One builder for the RFC 8414 / OpenID Connect Discovery document. Each capability contributes
 * the fields for what it actually serves, so the document advertises only what works.
 */
export type MetadataContribution = (issuer: string) => Record<string, unknown>;

export const coreMetadata: MetadataContribution = (issuer) => ({
  issuer,
  jwks_uri: `${issuer}/jwks`,
});

/** Merges the contributions; a list several contribute to (e.g. grant_types_supported) gets all their values. */
export function buildMetadata(issuer: string, contributions: MetadataContribution[]): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const contribution of contributions) {
    for (const [name, value] of Object.entries(contribution(issuer))) {
      const earlier = metadata[name];
      metadata[name] = Array.isArray(earlier) && Array.isArray(value) ? [...new Set([...earlier, ...value])] : value;
    }
  }
  return metadata;
}

/** What the OAuth 2.1 / OpenID Connect provider serves (server/http/authorize, token, …). */
export const oauthMetadata: MetadataContribution = (issuer) => ({
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  userinfo_endpoint: `${issuer}/userinfo`,
  introspection_endpoint: `${issuer}/introspect`,
  revocation_endpoint: `${issuer}/revoke`,
  end_session_endpoint: `${issuer}/logout`,
  response_types_supported: ['code'],
  response_modes_supported: ['query'],
  grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:uma-ticket'],
  code_challenge_methods_supported: ['S256'],
  scopes_supported: KNOWN_SCOPES,
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: [...ID_TOKEN_ALGORITHMS],
  claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'name', 'email', 'email_verified'],
  prompt_values_supported: ['none', 'login', 'consent'],
  authorization_response_iss_parameter_supported: true,
  introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
  revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
  request_parameter_supported: false,
  request_uri_parameter_supported: false,
  claims_parameter_supported: false,
});
