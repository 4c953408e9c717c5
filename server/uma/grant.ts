import { generateSecret, hashSecret } from '../crypto/secrets.js';
import { invalidGrant, invalidScope, umaError } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import type { TokenResponse } from '../oauth/grants/types.js';
import type { TokenService } from '../oauth/token-service.js';
import type { DecisionLog } from '../policy/decision-log.js';
import type { ClaimsOutput } from '../policy/entrypoints.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { AccessRequests, Pcts, RequestedPermission, RequestingParty, TicketDocument, Tickets } from '../store/repositories/uma-requests.js';
import { claimsFacts, permissionKey, type ClaimsFactsDeps } from './claims-facts.js';
import { partyFromClaimToken, partyFromPct, type PartyDeps } from './requesting-party.js';
import { issueTicket } from './tickets.js';

export const UMA_TICKET_GRANT = 'urn:ietf:params:oauth:grant-type:uma-ticket';
/** How long a client may keep polling while the owner decides (`request_submitted`). */
const PENDING_TICKET_SECONDS = 24 * 3600;
const POLL_INTERVAL_SECONDS = 5;
const PCT_LIFETIME_SECONDS = 30 * 24 * 3600;

export interface RptPermission extends RequestedPermission {
  exp: number;
}

/** What the uma-ticket grant uses. */
export interface UmaGrantDeps extends ClaimsFactsDeps, PartyDeps {
  config: { issuer: string; accessTokenTtl: number };
  uma: ClaimsFactsDeps['uma'] &
    PartyDeps['uma'] & {
      tickets: Pick<Tickets, 'find' | 'spend' | 'holdWhilePending' | 'create'>;
      requests: Pick<AccessRequests, 'submit' | 'refusedBefore'>;
      pcts: Pick<Pcts, 'find' | 'issue'>;
    };
  decisions: Pick<DecisionLog, 'decide'>;
  tokenService: Pick<TokenService, 'issueAccessToken' | 'verifyAccessToken'>;
}

type GrantParams = ReturnType<typeof grantParams>;
const grantParams = (body: Record<string, unknown>) => readParams(body, ['ticket', 'claim_token', 'claim_token_format', 'pct', 'rpt', 'scope'] as const);

/**
 * UMA 2.0 Grant §3.3: a client redeems a permission ticket for an RPT. The requesting party is
 * identified by a pushed ID token, claims gathered for this ticket, or a PCT; the `claims` policy
 * decides from the ticket, those claims and the owner's sharing rules. A ticket is spent by a
 * final answer (grant, denial, or need_info, which hands out a fresh one); while the owner is
 * being asked (`request_submitted`) the client polls with the same ticket.
 */
export async function umaTicketGrant(deps: UmaGrantDeps, client: ClientDocument, body: Record<string, unknown>): Promise<TokenResponse> {
  const params = grantParams(body);
  const ticketHash = hashSecret(requireParam(params, 'ticket'));
  const ticket = await deps.uma.tickets.find(ticketHash);
  // A ticket bound to a client (one carrying gathered claims) is like an authorization code: only that client may redeem it.
  if (!ticket || (ticket.clientId !== undefined && ticket.clientId !== client._id)) {
    throw invalidGrant('the permission ticket is invalid, expired or was already used');
  }
  const party = await requestingParty(deps, client, ticket, params);
  const permissions = narrowed(ticket.permissions, params.scope);
  const previous = params.rpt ? await previousPermissions(deps, client, ticket, params.rpt) : undefined;

  const input = await claimsFacts(deps, { ownerId: ticket.ownerId, clientId: client._id, permissions, party });
  const { result, record } = await deps.decisions.decide('claims', input);

  if (result.outcome === 'request_submitted' && party) {
    await askOwner(deps, client, ticket, party, permissions, record.id);
    await deps.uma.tickets.holdWhilePending(ticketHash, new Date(Date.now() + PENDING_TICKET_SECONDS * 1000));
    throw umaError('request_submitted', 'the resource owner has been asked; retry with the same ticket', { ticket: params.ticket, interval: POLL_INTERVAL_SECONDS });
  }
  if (!(await deps.uma.tickets.spend(ticketHash))) throw invalidGrant('the permission ticket was already used');
  return grantedOrRefused(deps, client, ticket, party, result, previous);
}

/** Who is asking: a pushed claim token, else the claims gathered for this ticket, else a PCT; or nobody yet. */
function requestingParty(deps: UmaGrantDeps, client: ClientDocument, ticket: TicketDocument, params: GrantParams): Promise<RequestingParty | undefined> {
  if (params.claim_token) return partyFromClaimToken(deps, client._id, params.claim_token, params.claim_token_format);
  if (ticket.requestingParty) return Promise.resolve(ticket.requestingParty);
  return params.pct ? partyFromPct(deps, client._id, params.pct) : Promise.resolve(undefined);
}

/** The policy's final answer, the ticket being spent: an RPT, or need_info with a fresh ticket, or request_denied. */
async function grantedOrRefused(
  deps: UmaGrantDeps,
  client: ClientDocument,
  ticket: TicketDocument,
  party: RequestingParty | undefined,
  result: ClaimsOutput,
  /** The permissions of the RPT being upgraded, if one is. */
  previous: RptPermission[] | undefined,
): Promise<TokenResponse> {
  if (result.outcome === 'need_info') {
    const fresh = await issueTicket(deps, { ownerId: ticket.ownerId, resourceServerId: ticket.resourceServerId, permissions: ticket.permissions });
    throw umaError('need_info', 'the requesting party must be identified', {
      ticket: fresh,
      required_claims: result.required_claims,
      redirect_user: `${deps.config.issuer}/uma/claims`,
    });
  }
  if (result.outcome !== 'grant') throw umaError('request_denied', 'the resource owner does not allow this request');

  const exp = Math.floor(Date.now() / 1000) + deps.config.accessTokenTtl;
  const granted: RptPermission[] = mergePermissions(previous ?? [], result.permissions.map((p) => ({ ...p, exp })));
  const rpt = await deps.tokenService.issueAccessToken({
    clientId: client._id,
    accountId: ticket.ownerId,
    subject: party?.sub ?? client._id,
    scopes: ['uma'],
    audience: ticket.resourceServerId,
    claims: { permissions: granted },
  });
  const pct = party ? await issuePct(deps, client._id, party) : undefined;
  return {
    access_token: rpt.token,
    token_type: 'Bearer',
    expires_in: rpt.expiresIn,
    scope: 'uma',
    ...(previous ? { upgraded: true } : {}),
    ...(pct ? { pct } : {}),
  };
}

/** `scope` on the request narrows what the ticket asks for (UMA Grant §3.3.1); it never widens it. */
function narrowed(permissions: RequestedPermission[], scope: string | undefined): RequestedPermission[] {
  if (!scope) return permissions;
  const wanted = scope.split(' ').filter(Boolean);
  const kept = permissions
    .map((p) => ({ resource_id: p.resource_id, resource_scopes: p.resource_scopes.filter((s) => wanted.includes(s)) }))
    .filter((p) => p.resource_scopes.length > 0);
  if (kept.length === 0) throw invalidScope('none of the requested scopes is in the permission ticket');
  return kept;
}

/** One pending request per (owner, party, client, permissions): polling does not pile them up. */
async function askOwner(deps: UmaGrantDeps, client: ClientDocument, ticket: TicketDocument, party: RequestingParty, permissions: RequestedPermission[], decisionId: string) {
  const key = permissionKey(permissions);
  await deps.uma.requests.submit({
    _id: hashSecret(`${ticket.ownerId}|${party.iss}|${party.sub}|${client._id}|${key}`),
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

/** RPT upgrade (UMA Grant §3.3.5): a still-valid RPT of this client, for the ticket's resource server, adds its permissions. */
async function previousPermissions(deps: UmaGrantDeps, client: ClientDocument, ticket: TicketDocument, rpt: string): Promise<RptPermission[]> {
  const payload = await deps.tokenService.verifyAccessToken(rpt);
  if (!payload || payload.client_id !== client._id || payload.aud !== ticket.resourceServerId || !Array.isArray(payload.permissions)) {
    throw invalidGrant('the rpt is invalid, expired, not this client’s or for another resource server');
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

async function issuePct(deps: UmaGrantDeps, clientId: string, party: RequestingParty) {
  const pct = generateSecret();
  await deps.uma.pcts.issue({ _id: hashSecret(pct), clientId, requestingParty: party, expiresAt: new Date(Date.now() + PCT_LIFETIME_SECONDS * 1000) });
  return pct;
}
