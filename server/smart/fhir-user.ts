/** A FHIR resource id (FHIR R4 §2.24.0.1 `id`): letters, digits, `-` and `.`, up to 64. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The kinds of FHIR user an account can be (SMART App Launch `fhirUser`). */
export type FhirUserType = 'Patient' | 'Practitioner';

export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}

/** `Patient/<id>` or `Practitioner/<id>` as its parts; undefined for anything else. */
export function parseFhirUser(reference: string): { resourceType: FhirUserType; id: string } | undefined {
  const [resourceType, id, ...rest] = reference.split('/');
  if (rest.length > 0 || (resourceType !== 'Patient' && resourceType !== 'Practitioner') || id === undefined || !isFhirId(id)) return undefined;
  return { resourceType, id };
}

/**
 * The `fhirUser` claim: SMART App Launch asks for the resource's URL, so the relative reference
 * resolved against the (first) FHIR server Assent protects; the bare reference when none is configured.
 */
export function fhirUserUrl(reference: string, fhirBase: string | undefined): string {
  return fhirBase ? `${fhirBase}/${reference}` : reference;
}
