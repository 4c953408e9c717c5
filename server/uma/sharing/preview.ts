// The "who can see what" preview, asked of the claims policy itself.
//
// Nothing here decides access: the preview builds a claims input exactly as the uma-ticket grant
// does and enforces nothing; it is not recorded in the decision log, because it is hypothetical,
// grants nothing, and would otherwise fill the owner's access history and the auditors' record of
// real decisions with questions the owner asked themselves.

import type { PolicyEngine } from '../../policy/engine.js';
import type { ClaimsInput, ClaimsOutput } from '../../policy/entrypoints.js';
import type { Resources } from '../../store/repositories/resources.js';
import type { SharingRules } from '../../store/repositories/sharing-rules.js';
import type { RequestingParty, UmaStore } from '../../store/repositories/uma-requests.js';
import { resolveParty, type HypotheticalParty, type PartyDeps } from './party.js';
import { byId, reasonDescriber, resourceLabel } from './sentences.js';

/** The client id the preview's hypothetical decisions name (the claims policy does not look at it). */
export const PREVIEW_CLIENT_ID = 'assent-preview';

export interface PreviewCell {
  scope: string;
  outcome: ClaimsOutput['outcome'];
  /** grant → yes; request_denied → no; request_submitted → the owner would be asked. */
  answer: 'yes' | 'no' | 'ask';
  because: { id: string; description: string }[];
}

export interface PreviewRow {
  resource_id: string;
  name: string;
  type?: string;
  scopes: PreviewCell[];
}

export interface Preview {
  requesting_party: RequestingParty;
  evaluated_at: string;
  resources: PreviewRow[];
}

const ANSWERS: Record<ClaimsOutput['outcome'], PreviewCell['answer']> = { grant: 'yes', request_denied: 'no', request_submitted: 'ask', need_info: 'ask' };

/** What the preview reads (the owner's resources, rules and approvals) and asks (the policy, unrecorded). */
export interface PreviewDeps extends PartyDeps {
  policy: Pick<PolicyEngine, 'decide'>;
  resources: Pick<Resources, 'ofOwner'>;
  sharingRules: Pick<SharingRules, 'ofOwner'>;
  uma: Pick<UmaStore, 'approvals'>;
}

/**
 * "Who can see what": for every resource of the owner and each of its scopes, the claims policy's
 * answer to a one-resource, one-scope ticket from this party, now. Not recorded (see above).
 */
export async function preview(deps: PreviewDeps, ownerId: string, hypothetical: HypotheticalParty): Promise<Preview> {
  const party = await resolveParty(deps, hypothetical);
  const [resources, rules, approvals] = await Promise.all([
    deps.resources.ofOwner(ownerId),
    deps.sharingRules.ofOwner(ownerId),
    deps.uma.approvals.of(ownerId, party),
  ]);
  const names = byId(resources);
  const now = new Date().toISOString();
  const approvalFacts = approvals.map((a) => ({
    id: a._id,
    requesting_party: { iss: a.requestingParty.iss, sub: a.requestingParty.sub },
    resource_id: a.resource_id,
    resource_scopes: a.resource_scopes,
    expires_at: a.expiresAt.toISOString(),
  }));
  const reason = reasonDescriber(rules, names, approvalFacts);
  return {
    requesting_party: party,
    evaluated_at: now,
    resources: resources.map((resource) => ({
      resource_id: resource._id,
      name: resourceLabel(resource._id, names),
      ...(resource.type ? { type: resource.type } : {}),
      scopes: resource.resource_scopes.map((scope): PreviewCell => {
        const input: ClaimsInput = {
          now,
          owner: { sub: ownerId },
          client: { client_id: PREVIEW_CLIENT_ID },
          requesting_party: party,
          ticket: { resources: [{ resource_id: resource._id, resource_scopes: [scope], ...(resource.type ? { type: resource.type } : {}) }] },
          rules,
          approvals: approvalFacts,
          refused_before: false,
        };
        const { result } = deps.policy.decide('claims', input);
        return { scope, outcome: result.outcome, answer: ANSWERS[result.outcome], because: result.because.map((id) => ({ id, description: reason(id) })) };
      }),
    })),
  };
}
