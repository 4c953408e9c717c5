/**
 * What SMART App Launch 2.2 §"Capabilities" lets Assent advertise: exactly what works. EHR and
 * standalone launch, POST at /authorize, public and both kinds of confidential clients, OpenID
 * Connect sign-in, the banner and style hints, patient and encounter context, offline access,
 * patient- and user-level scopes in both scope syntaxes.
 */
export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'authorize-post',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-banner',
  'context-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'permission-offline',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
];

/** The scope shapes a SMART app may ask for, besides the server's other scopes. */
const SMART_SCOPES = ['openid', 'fhirUser', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access', 'patient/*.cruds', 'user/*.cruds', 'system/*.cruds', 'patient/*.read', 'user/*.read', 'system/*.read'];

/** The members of the server's discovery metadata that the SMART configuration repeats. */
const FROM_DISCOVERY = [
  'issuer',
  'jwks_uri',
  'authorization_endpoint',
  'token_endpoint',
  'grant_types_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'response_types_supported',
  'code_challenge_methods_supported',
  'introspection_endpoint',
  'revocation_endpoint',
  'registration_endpoint',
] as const;

/**
 * The `/.well-known/smart-configuration` document (SMART App Launch 2.2 §2.0.1), built from the
 * discovery metadata so both always agree. `managementEndpoint` is the page where patients see
 * and revoke their connected apps.
 */
export function smartConfiguration(metadata: Record<string, unknown>, managementEndpoint: string): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const name of FROM_DISCOVERY) {
    if (metadata[name] === undefined) throw new Error(`the discovery metadata has no ${name}, which the SMART configuration needs`);
    document[name] = metadata[name];
  }
  const scopes = Array.isArray(metadata.scopes_supported) ? (metadata.scopes_supported as string[]) : [];
  return { ...document, scopes_supported: [...new Set([...scopes, ...SMART_SCOPES])], management_endpoint: managementEndpoint, capabilities: SMART_CAPABILITIES };
}
