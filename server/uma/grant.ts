import type { Services } from '../http/services.js';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import { umaError, ProtocolError } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import type { GrantHandler } from '../oauth/grants/types.js';
import type { ClaimsInput } from '../policy/entrypoints.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { RequestedPermission, RequestingParty, TicketDocument } from '../store/repositories/uma-requests.js';
import { accountOfParty, partyFromClaimToken, partyFromPct } from './requesting-party.js';
import { issueTicket } from './tickets.js';

export const UMA_TICKET_GRANT = 'urn:ietf:params:oauth:grant-type:uma-ticket';
/** How long a client may keep polling while the owner decides (`request_submitted`). */
const PENDING_TICKET_SECONDS = 24 * 3600;
const POLL_INTERVAL_SECONDS = 5;
const PCT_LIFETIME_SECONDS = 30 * 24 * 3600;

export interface RptPermission extends RequestedPermission {
  exp: number;
}

/**
 * UMA 2.0 Grant §3.3: a client redeems a permission ticket for an RPT. The requesting party is
 * identified by a pushed ID token, claims gathered for this ticket, or a PCT; the `claims` policy
 * decides from the ticket, those claims and the owner's sharing rules. A ticket is spent by a
 * final answer (grant, denial, or need_info, which hands out a fresh one); while the owner is
 * being asked (`request_submitted`) the client polls with the same ticket.
 */
export const umaTicketGrant: GrantHandler<Services> = async (services, client, body) => {
  const params = readParams(body, ['ticket', 'claim_token', 'claim_token_format', 'pct', 'rpt', 'scope'] as const);
  const ticketId = hashSecret(requireParam(params, 'ticket'));
  const ticket = await services.uma.tickets.findOne({ _id: ticketId, consumedAt: { $exists: false } });
  // A ticket bound to a client (one carrying gathered claims) is like an authorization code: only that client may redeem it.
  if (!ticket || (ticket.clientId !== undefined && ticket.clientId !== client._id)) {
    throw new ProtocolError(400, 'invalid_grant', 'the permission ticket is invalid, expired or was already used');
  }

  const party = params.claim_token
    ? await partyFromClaimToken(services, client._id, params.claim_token, params.claim_token_format)
    : (ticket.requestingParty ?? (params.pct ? await partyFromPct(services, client._id, params.pct) : undefined));
  const permissions = narrowed(ticket.permissions, params.scope);
  const previous = params.rpt ? await previousPermissions(services, client, ticket, params.rpt) : [];

  const input = await claimsInput(services, client, ticket, permissions, party);
  const { result, record } = services.policy.decide('claims', input);
  await services.decisions.record(record);

  if (result.outcome === 'request_submitted' && party) {
    await askOwner(services, client, ticket, party, permissions, record.id);
    await services.uma.tickets.update({ _id: ticketId }, { expiresAt: new Date(Date.now() + PENDING_TICKET_SECONDS * 1000) });
    throw umaError('request_submitted', 'the resource owner has been asked; retry with the same ticket', { ticket: params.ticket, interval: POLL_INTERVAL_SECONDS });
  }
  if (!(await services.uma.tickets.consume({ _id: ticketId, consumedAt: { $exists: false } }, { consumedAt: new Date() }))) {
    throw new ProtocolError(400, 'invalid_grant', 'the permission ticket was already used');
  }
  if (result.outcome === 'need_info') {
    const fresh = await issueTicket(services, { ownerId: ticket.ownerId, resourceServerId: ticket.resourceServerId, permissions: ticket.permissions });
    throw umaError('need_info', 'the requesting party must be identified', {
      ticket: fresh,
      required_claims: result.required_claims,
      redirect_user: `${services.config.issuer}/uma/claims`,
    });
  }
  if (result.outcome !== 'grant') throw umaError('request_denied', 'the resource owner does not allow this request');

  const exp = Math.floor(Date.now() / 1000) + services.config.accessTokenTtl;
  const granted: RptPermission[] = mergePermissions(previous, result.permissions.map((p) => ({ ...p, exp })));
  const rpt = await services.tokenService.issueAccessToken({
    clientId: client._id,
    accountId: ticket.ownerId,
    subject: party?.sub ?? client._id,
    scopes: ['uma'],
    audience: ticket.resourceServerId,
    claims: { permissions: granted },
  });
  const pct = party ? await issuePct(services, client._id, party) : undefined;
  return {
    access_token: rpt.token,
    token_type: 'Bearer',
    expires_in: rpt.expiresIn,
    scope: 'uma',
    ...(params.rpt ? { upgraded: true } : {}),
    ...(pct ? { pct } : {}),
  };
};

/** `scope` on the request narrows what the ticket asks for (UMA Grant §3.3.1); it never widens it. */
function narrowed(permissions: RequestedPermission[], scope: string | undefined): RequestedPermission[] {
  if (!scope) return permissions;
  const wanted = scope.split(' ').filter(Boolean);
  const kept = permissions
    .map((p) => ({ resource_id: p.resource_id, resource_scopes: p.resource_scopes.filter((s) => wanted.includes(s)) }))
    .filter((p) => p.resource_scopes.length > 0);
  if (kept.length === 0) throw new ProtocolError(400, 'invalid_scope', 'none of the requested scopes is in the permission ticket');
  return kept;
}

async function claimsInput(services: Services, client: ClientDocument, ticket: TicketDocument, permissions: RequestedPermission[], party: RequestingParty | undefined): Promise<ClaimsInput> {
  const now = new Date();
  const [resources, rules, approvals, refusals, account] = await Promise.all([
    services.resources.byIds(permissions.map((p) => p.resource_id)),
    services.sharingRules.ofOwner(ticket.ownerId),
    party ? services.uma.approvals.find({ ownerId: ticket.ownerId, 'requestingParty.iss': party.iss, 'requestingParty.sub': party.sub }) : [],
    party ? services.uma.requests.count({ ownerId: ticket.ownerId, status: 'denied', 'requestingParty.iss': party.iss, 'requestingParty.sub': party.sub, permissionKey: permissionKey(permissions) }) : 0,
    party ? accountOfParty(services, party) : undefined,
  ]);
  const typeOf = new Map(resources.map((r) => [r._id, r.type]));
  return {
    now: now.toISOString(),
    owner: { sub: ticket.ownerId },
    client: { client_id: client._id },
    ...(party ? { requesting_party: party } : {}),
    ...(account ? { requesting_account: { sub: account } } : {}),
    ticket: {
      resources: permissions.map((p) => {
        const type = typeOf.get(p.resource_id);
        return { resource_id: p.resource_id, resource_scopes: p.resource_scopes, ...(type ? { type } : {}) };
      }),
    },
    rules,
    approvals: approvals.map((a) => ({
      id: a._id,
      requesting_party: a.requestingParty,
      resource_id: a.resource_id,
      resource_scopes: a.resource_scopes,
      expires_at: a.expiresAt.toISOString(),
    })),
    refused_before: refusals > 0,
  };
}

/** One pending request per (owner, party, client, permissions): polling does not pile them up. */
async function askOwner(services: Services, client: ClientDocument, ticket: TicketDocument, party: RequestingParty, permissions: RequestedPermission[], decisionId: string) {
  const key = permissionKey(permissions);
  const _id = hashSecret(`${ticket.ownerId}|${party.iss}|${party.sub}|${client._id}|${key}`);
  if (await services.uma.requests.findOne({ _id, status: 'pending' })) return;
  await services.uma.requests.upsert({
    _id,
    ownerId: ticket.ownerId,
    clientId: client._id,
    requestingParty: party,
    permissions,
    permissionKey: key,
    status: 'pending',
    createdAt: new Date(),
    decisionId,
  });
}

/** A canonical text for a set of permissions, so identical requests can be recognised. */
export function permissionKey(permissions: RequestedPermission[]) {
  return permissions
    .map((p) => `${p.resource_id}:${[...p.resource_scopes].sort().join(',')}`)
    .sort()
    .join(';');
}

/** RPT upgrade (UMA Grant §3.3.5): a still-valid RPT of this client, for the ticket's resource server, adds its permissions. */
async function previousPermissions(services: Services, client: ClientDocument, ticket: TicketDocument, rpt: string): Promise<RptPermission[]> {
  const payload = await services.tokenService.verifyAccessToken(rpt);
  if (!payload || payload.client_id !== client._id || payload.aud !== ticket.resourceServerId || !Array.isArray(payload.permissions)) {
    throw new ProtocolError(400, 'invalid_grant', 'the rpt is invalid, expired, not this client’s or for another resource server');
  }
  return payload.permissions as RptPermission[];
}

function mergePermissions(previous: RptPermission[], fresh: RptPermission[]): RptPermission[] {
  const byResource = new Map<string, RptPermission>();
  for (const p of [...previous, ...fresh]) {
    const known = byResource.get(p.resource_id);
    byResource.set(p.resource_id, known
      ? { resource_id: p.resource_id, resource_scopes: [...new Set([...known.resource_scopes, ...p.resource_scopes])].sort(), exp: Math.max(known.exp, p.exp) }
      : p);
  }
  return [...byResource.values()].sort((a, b) => a.resource_id.localeCompare(b.resource_id));
}

async function issuePct(services: Services, clientId: string, party: RequestingParty) {
  const pct = generateSecret();
  await services.uma.pcts.insert({ _id: hashSecret(pct), clientId, requestingParty: party, expiresAt: new Date(Date.now() + PCT_LIFETIME_SECONDS * 1000) });
  return pct;
}
