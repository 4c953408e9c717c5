import type { AccountDocument } from '../store/repositories/accounts.js';
import type { SmartAuthorization } from '../store/repositories/tokens.js';
import { fhirUserUrl } from './fhir-user.js';

/**
 * The claims a SMART access token carries so the FHIR server (by introspection or by reading the
 * JWT) knows the context: `patient`, `encounter`, `fhirContext`, and `fhirUser` — the signed-in
 * user's FHIR resource as an absolute URL on the token's FHIR server.
 */
export function smartAccessClaims(smart: SmartAuthorization, account: AccountDocument): Record<string, unknown> {
  const { patient, encounter, fhirContext } = smart.launchContext ?? {};
  return {
    ...(patient !== undefined ? { patient } : {}),
    ...(encounter !== undefined ? { encounter } : {}),
    ...(fhirContext !== undefined ? { fhirContext } : {}),
    ...(account.fhirUser !== undefined ? { fhirUser: fhirUserUrl(account.fhirUser, smart.aud) } : {}),
  };
}
