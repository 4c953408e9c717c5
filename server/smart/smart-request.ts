import { normalizeFhirBase } from './fhir-base.js';

/** Scopes that make an authorization request a SMART one: resource scopes (SMART App Launch §"Scopes"), launch scopes, fhirUser. */
const SMART_SCOPE = /^(?:(?:patient|user|system)\/.+|launch(?:\/.+)?|fhirUser)$/;

/**
 * A scope only SMART has (a resource scope, well-formed or not, a launch scope, fhirUser) — not
 * `openid` or `offline_access`, which SMART shares with OpenID Connect.
 */
export function looksLikeSmartScope(scope: string): boolean {
  return SMART_SCOPE.test(scope);
}

/** A SMART authorization request: it asks for SMART scopes, or names a launch or an audience. */
export function isSmartRequest(scopes: string[], launch: string | undefined, aud: string | undefined): boolean {
  return launch !== undefined || aud !== undefined || scopes.some(looksLikeSmartScope);
}

/** The configured FHIR base that `aud` names (exact match after normalising a trailing slash), if any. */
export function protectedFhirBase(aud: string | undefined, fhirBaseUrls: readonly string[]): string | undefined {
  if (aud === undefined) return undefined;
  const wanted = normalizeFhirBase(aud);
  return fhirBaseUrls.find((base) => base === wanted);
}
