import type { FhirResource } from './resources.js';

/** A searchset Bundle of the resources found. */
export function bundle(base: string, resources: FhirResource[]) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
  };
}

export function operationOutcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** The server's CapabilityStatement: read and search of each type held, SMART-on-FHIR security with Assent's endpoints. */
export function capabilityStatement(base: string, assentUrl: string, types: string[]) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-02',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    implementation: { description: 'Assent demo FHIR server', url: base },
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'authorize', valueUri: `${assentUrl}/authorize` },
                { url: 'token', valueUri: `${assentUrl}/token` },
                { url: 'revoke', valueUri: `${assentUrl}/revoke` },
              ],
            },
          ],
        },
        resource: types.map((type) => ({ type, interaction: [{ code: 'read' }, { code: 'search-type' }], searchParam: [{ name: 'patient', type: 'reference' }] })),
      },
    ],
  };
}
