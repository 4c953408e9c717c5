import type { ClaimsInput } from '../../server/policy/entrypoints.js';

/** A claims input about `owner`'s resource that no rule covers: a decision with an owner. */
export function claimsInput(owner: string): ClaimsInput {
  return {
    now: new Date().toISOString(),
    owner: { sub: owner },
    client: { client_id: 'demo-app' },
    requesting_party: { iss: 'https://idp.example', sub: 'dr-1', email: 'dr@clinic.org', email_verified: true },
    ticket: { resources: [{ resource_id: 'res-1', type: 'medication', resource_scopes: ['read'] }] },
    rules: [],
    approvals: [],
    refused_before: false,
  };
}
