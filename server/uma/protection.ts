/**
 * Who is calling the UMA protection API: a resource server acting for one resource owner. UMA
 * Federated Authorization §1.3: the API takes a PAT, an access token with scope `uma_protection`
 * that the owner granted to the resource server through the code flow (which token is one is the
 * access policy's decision, policies/access/access.rego, asked by the route's bearer gate).
 */
export interface ProtectionCaller {
  ownerId: string;
  resourceServerId: string;
}
