import type { ClaimsInput } from '../policy/entrypoints.js';
import type { Resources } from '../store/repositories/resources.js';
import type { SharingRule, SharingRules } from '../store/repositories/sharing-rules.js';
import type { AccessRequests, Approvals, RequestedPermission, RequestingParty } from '../store/repositories/uma-requests.js';
import { accountOfParty, type PartyDeps } from './requesting-party.js';

// The input of the `claims` entrypoint (schemas/policy/claims.input.schema.json), built in one
// place for the uma-ticket grant and the sharing preview alike, so that the preview asks the
// policy exactly what a real ticket would.

/** What every claims decision about one owner and one party reads, whatever the ticket. */
export interface OwnerFacts {
  rules: SharingRule[];
  approvals: ClaimsInput['approvals'];
}

/** One claims question: a ticket's resources (with their types), asked by a client for an identified party or nobody yet. */
export interface ClaimsQuestion {
  ownerId: string;
  clientId: string;
  party?: RequestingParty | undefined;
  /** The local account the party is (accountOfParty), if any. */
  requestingAccount?: string | undefined;
  resources: ClaimsInput['ticket']['resources'];
  /** The owner already denied an identical request from this party. */
  refusedBefore: boolean;
}

export interface OwnerFactsDeps {
  sharingRules: Pick<SharingRules, 'ofOwner'>;
  uma: { approvals: Pick<Approvals, 'of'> };
}

export interface ClaimsFactsDeps extends OwnerFactsDeps, Pick<PartyDeps, 'config' | 'identities' | 'accounts'> {
  resources: Pick<Resources, 'byIds'>;
  uma: OwnerFactsDeps['uma'] & { requests: Pick<AccessRequests, 'refusedBefore'> };
}

/** The owner's sharing rules, and the approvals she gave this party (none before anyone is identified). */
export async function ownerFacts(deps: OwnerFactsDeps, ownerId: string, party: RequestingParty | undefined): Promise<OwnerFacts> {
  const [rules, approvals] = await Promise.all([deps.sharingRules.ofOwner(ownerId), party ? deps.uma.approvals.of(ownerId, party) : []]);
  return {
    rules,
    approvals: approvals.map((a) => ({
      id: a._id,
      requesting_party: { iss: a.requestingParty.iss, sub: a.requestingParty.sub },
      resource_id: a.resource_id,
      resource_scopes: a.resource_scopes,
      expires_at: a.expiresAt.toISOString(),
    })),
  };
}

/** The claims input for one question, from facts already gathered (the preview asks many questions of one owner's facts). */
export function claimsInput(question: ClaimsQuestion, facts: OwnerFacts, now: Date = new Date()): ClaimsInput {
  return {
    now: now.toISOString(),
    owner: { sub: question.ownerId },
    client: { client_id: question.clientId },
    ...(question.party ? { requesting_party: question.party } : {}),
    ...(question.requestingAccount ? { requesting_account: { sub: question.requestingAccount } } : {}),
    ticket: { resources: question.resources },
    rules: facts.rules,
    approvals: facts.approvals,
    refused_before: question.refusedBefore,
  };
}

/**
 * The claims input for a real ticket: the owner's facts, the types of the resources asked for,
 * the local account the party is, and whether the owner refused the same request before.
 */
export async function claimsFacts(
  deps: ClaimsFactsDeps,
  ticket: { ownerId: string; clientId: string; permissions: RequestedPermission[]; party: RequestingParty | undefined },
): Promise<ClaimsInput> {
  const { ownerId, permissions, party } = ticket;
  const now = new Date();
  const [facts, resources, refusedBefore, requestingAccount] = await Promise.all([
    ownerFacts(deps, ownerId, party),
    deps.resources.byIds(permissions.map((p) => p.resource_id)),
    party ? deps.uma.requests.refusedBefore(ownerId, party, permissionKey(permissions)) : false,
    party ? accountOfParty(deps, party) : undefined,
  ]);
  const typeOf = new Map(resources.map((r) => [r._id, r.type]));
  const asked = permissions.map((p) => {
    const type = typeOf.get(p.resource_id);
    return { resource_id: p.resource_id, resource_scopes: p.resource_scopes, ...(type ? { type } : {}) };
  });
  return claimsInput({ ownerId, clientId: ticket.clientId, party, requestingAccount, resources: asked, refusedBefore }, facts, now);
}

/** A canonical text for a set of permissions, so identical requests can be recognised. */
export function permissionKey(permissions: RequestedPermission[]) {
  return permissions
    .map((p) => `${p.resource_id}:${[...p.resource_scopes].sort().join(',')}`)
    .sort()
    .join(';');
}
