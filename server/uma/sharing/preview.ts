// The "who can see what" preview, asked of the claims policy itself.
//
// Nothing here decides access: the preview builds its claims input with the uma-ticket grant's
// own builder and enforces nothing; it is not recorded in the decision log, because it is hypothetical,
// grants nothing, and would otherwise fill the owner's access history and the auditors' record of
// real decisions with questions the owner asked themselves.

import type { PolicyEngine } from '../../policy/engine.js';
import type { ClaimsOutput } from '../../policy/entrypoints.js';
import type { ResourceDocument, Resources } from '../../store/repositories/resources.js';
import type { RequestingParty } from '../../store/repositories/uma-requests.js';
import { claimsInput, ownerFacts, type ClaimsFactsDeps, type OwnerFactsDeps } from '../claims-facts.js';
import { accountOfParty } from '../requesting-party.js';
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

/** What the preview reads (the owner's resources, rules and approvals, who the party is here) and asks (the policy, unrecorded). */
export interface PreviewDeps extends PartyDeps, OwnerFactsDeps, Pick<ClaimsFactsDeps, 'identities'> {
  accounts: PartyDeps['accounts'] & ClaimsFactsDeps['accounts'];
  policy: Pick<PolicyEngine, 'decide'>;
  resources: Pick<Resources, 'ofOwner'>;
}

/**
 * "Who can see what": for every resource of the owner and each of its scopes, the claims policy's
 * answer to a one-resource, one-scope ticket from this party, now, with the input built by the same
 * claimsInput as a real ticket's (server/uma/claims-facts.ts). Not recorded (see above).
 */
export async function preview(deps: PreviewDeps, ownerId: string, hypothetical: HypotheticalParty): Promise<Preview> {
  const party = await resolveParty(deps, hypothetical);
  const [resources, facts, requestingAccount] = await Promise.all([deps.resources.ofOwner(ownerId), ownerFacts(deps, ownerId, party), accountOfParty(deps, party)]);
  const names = byId(resources);
  const now = new Date();
  const reason = reasonDescriber(facts.rules, names, facts.approvals);
  const cell = (resource: ResourceDocument, scope: string): PreviewCell => {
    const asked = [{ resource_id: resource._id, resource_scopes: [scope], ...(resource.type ? { type: resource.type } : {}) }];
    const question = { ownerId, clientId: PREVIEW_CLIENT_ID, party, requestingAccount, resources: asked, refusedBefore: false };
    const { result } = deps.policy.decide('claims', claimsInput(question, facts, now));
    return { scope, outcome: result.outcome, answer: ANSWERS[result.outcome], because: result.because.map((id) => ({ id, description: reason(id) })) };
  };
  return {
    requesting_party: party,
    evaluated_at: now.toISOString(),
    resources: resources.map((resource) => ({
      resource_id: resource._id,
      name: resourceLabel(resource._id, names),
      ...(resource.type ? { type: resource.type } : {}),
      scopes: resource.resource_scopes.map((scope) => cell(resource, scope)),
    })),
  };
}
