/** A SMART App Launch resource scope (v1 `.read/.write/.*` or v2 `.cruds` letters, optional query) or launch scope. */
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]*)\.(read|write|\*|c?r?u?d?s?)(\?\S*)?$/;
const LAUNCH_SCOPES = new Set(['launch', 'launch/patient', 'launch/encounter', 'fhirUser']);

/** Whether a scope token belongs to SMART App Launch rather than plain OAuth / OpenID Connect. */
export function isSmartScope(raw: string): boolean {
  return LAUNCH_SCOPES.has(raw) || (RESOURCE_SCOPE.test(raw) && !raw.split('?')[0]!.endsWith('.'));
}
