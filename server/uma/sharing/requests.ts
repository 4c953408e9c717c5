// Pending access requests and the owner's answer to them: approve once, approve always, deny.

import { hashSecret } from '../../crypto/secrets.js';
import { notFound } from '../../protocol/errors.js';
import type { SharingRule, SharingRules } from '../../store/repositories/sharing-rules.js';
import type { AccessRequestDocument, UmaStore } from '../../store/repositories/uma-requests.js';
import { newRuleId, validateRule } from './validation.js';

/** How long an "approve once" lasts. */
export const APPROVAL_LIFETIME_SECONDS = 30 * 24 * 3600;

/** The owner's access requests and one-off approvals; approve always adds sharing rules. */
export interface RequestDeps {
  uma: Pick<UmaStore, 'requests' | 'approvals'>;
  sharingRules: Pick<SharingRules, 'add'>;
}

/** The owner's pending requests, newest first. */
export function pendingRequests(deps: Pick<RequestDeps, 'uma'>, ownerId: string): Promise<AccessRequestDocument[]> {
  return deps.uma.requests.pendingFor(ownerId);
}

export type RequestDecision = 'once' | 'always' | 'deny';

export interface RequestOutcome {
  request: AccessRequestDocument;
  approvals: string[];
  rules: SharingRule[];
}

/**
 * The owner's answer to a pending request: `once` gives a one-off approval per resource (for
 * APPROVAL_LIFETIME_SECONDS), `always` adds allow rules for that account, `deny` refuses it (the
 * claims policy then refuses the same request again). Only a pending request of this owner can be
 * decided, and only once: the status change is the atomic step.
 */
export async function decideRequest(deps: RequestDeps, ownerId: string, requestId: string, decision: RequestDecision): Promise<RequestOutcome> {
  const pending = await deps.uma.requests.findPending(requestId, ownerId);
  if (!pending) throw notFound('you have no pending request with this id');
  const rules = decision === 'always' ? rulesFor(pending) : [];
  const now = new Date();
  const request = await deps.uma.requests.decide(requestId, ownerId, decision === 'deny' ? 'denied' : 'approved', now);
  if (!request) throw notFound('you have no pending request with this id');
  const approvals: string[] = [];
  if (decision === 'once') {
    const expiresAt = new Date(now.getTime() + APPROVAL_LIFETIME_SECONDS * 1000);
    for (const p of request.permissions) {
      const _id = hashSecret(`${request._id}|${p.resource_id}`);
      await deps.uma.approvals.give({
        _id,
        ownerId,
        requestId: request._id,
        requestingParty: { iss: request.requestingParty.iss, sub: request.requestingParty.sub },
        resource_id: p.resource_id,
        resource_scopes: [...p.resource_scopes],
        expiresAt,
      });
      approvals.push(_id);
    }
  }
  for (const rule of rules) await deps.sharingRules.add(ownerId, rule);
  return { request, approvals, rules };
}

/** "Approve always": allow rules for exactly this account, one per set of scopes asked for. */
function rulesFor(request: AccessRequestDocument): SharingRule[] {
  const party = request.requestingParty;
  const byScopes = new Map<string, { ids: string[]; scopes: string[] }>();
  for (const p of request.permissions) {
    const scopes = [...new Set(p.resource_scopes)].sort();
    const key = scopes.join(' ');
    const group = byScopes.get(key) ?? { ids: [], scopes };
    if (!group.ids.includes(p.resource_id)) group.ids.push(p.resource_id);
    byScopes.set(key, group);
  }
  const who = party.name && party.email ? `${party.name} <${party.email}>` : (party.name ?? party.email ?? party.sub);
  return [...byScopes.values()].map((group) =>
    validateRule({
      id: newRuleId(),
      effect: 'allow',
      grantee: { issuer: party.iss, subject: party.sub },
      resources: { ids: group.ids },
      scopes: group.scopes,
      note: `Approved from an access request by ${who}`.slice(0, 500),
    }),
  );
}
