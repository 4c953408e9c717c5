/** A FHIR base URL as Assent compares it: without one trailing slash. */
export function normalizeFhirBase(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
