/**
 * The facts the policies decide about that the store also keeps: the owner's sharing rules and the
 * requesting party of a UMA request. Their shape is the policy's (schemas/policy/claims.input.schema.json),
 * so they are defined here and the store's repositories import them, not the other way round.
 */

/** The owner's sharing rule (schemas/sharing-rule.schema.json), as the `claims` policy reads it. */
export interface SharingRule {
  id: string;
  effect: 'allow' | 'deny';
  grantee:
    | { email: string }
    | { email_domain: string }
    | { issuer: string; subject: string }
    | { claim: { name: string; value: string } };
  resources: { all: true } | { ids: string[] } | { types: string[] };
  scopes?: string[];
  conditions?: { valid_from?: string; valid_until?: string; email_verified?: boolean; issuers?: string[] };
  /** Free text the owner wrote to remember why. */
  note?: string;
}

/** Who asked, as the claims policy saw them. */
export interface RequestingParty {
  iss: string;
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** Further verified claims (e.g. an NPI) a rule may match on. */
  claims?: Record<string, string>;
}
