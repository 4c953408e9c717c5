import { hashSecret } from '../crypto/secrets.js';
import { invalidClient, invalidRequest } from '../protocol/errors.js';
import { readParams } from '../protocol/params.js';
import type { Logins } from '../sessions/logins.js';
import { normalizeEmail, type AccountDocument, type Accounts } from '../store/repositories/accounts.js';
import type { CookieToSet } from '../store/repositories/browser-bound.js';
import { CLAIMS_PATH, type ClaimsInteractionDocument, type ClaimsInteractions } from '../store/repositories/claims-interactions.js';
import type { ClientDocument, Clients } from '../store/repositories/clients.js';
import type { RequestingParty, Tickets } from '../store/repositories/uma-requests.js';
import { requireClient } from '../oauth/clients/interaction-client.js';
import { partyFromAccount } from './requesting-party.js';
import { issueTicket } from './tickets.js';

/**
 * UMA 2.0 Grant §3.3.2–§3.3.3: interactive claims gathering. The client sends the requesting party
 * here with `client_id`, `ticket`, `claims_redirect_uri` and `state`; the party proves who they
 * are (a local account, or an upstream OpenID provider through `completeClaimsInteraction`); the
 * ticket is spent and a new one, carrying the gathered claims and bound to that client, goes back
 * to the client at its registered claims redirection URI.
 *
 * Like an authorization request (and the UMA Implementer's Guide's advice on this flow), the
 * interaction is bound to the browser that started it, its forms carry a CSRF token, and a party
 * already signed in must still press "Continue", so a drive-by redirect cannot attach a session's
 * identity to someone's ticket silently. The functions here say what happened; the HTTP layer
 * (server/http/uma-claims.ts) chooses the page and sets the cookies.
 */
export interface ClaimsInteractionDeps {
  config: { issuer: string };
  clients: Clients;
  accounts: Pick<Accounts, 'byId'>;
  logins: Pick<Logins, 'attempt'>;
  claimsInteractions: Pick<ClaimsInteractions, 'start' | 'finish'>;
  uma: { tickets: Pick<Tickets, 'find' | 'spend' | 'create'> };
}

/** Send the browser on (303), setting `cookies`. */
export interface ClaimsRedirect {
  kind: 'redirect';
  url: string;
  cookies: CookieToSet[];
}

/** The party must sign in (again, after `error`), e.g. on the sign-in form. */
export interface ClaimsNeedsLogin {
  kind: 'needs-login';
  interaction: ClaimsInteractionDocument;
  client: ClientDocument;
  error?: string;
  email?: string;
  status?: number;
}

/** A signed-in party must confirm (or switch) the account whose claims go to the client. */
export interface ClaimsNeedsConfirm {
  kind: 'needs-confirm';
  interaction: ClaimsInteractionDocument;
  client: ClientDocument;
  account: AccountDocument;
}

export type ClaimsOutcome = ClaimsRedirect | ClaimsNeedsLogin | ClaimsNeedsConfirm;

/** The interaction is over or never was. */
export const expired = () => invalidRequest('this claims request has expired or was already used; start again from the app');

/**
 * GET /uma/claims (and the legacy /rqp_claims): checks the client and its claims redirection URI
 * — when either is wrong nobody is redirected anywhere (an error) — then the ticket, whose
 * problems go back to the client as `error=invalid_request`; then starts the interaction.
 */
export async function beginClaimsInteraction(deps: ClaimsInteractionDeps, query: unknown): Promise<ClaimsRedirect> {
  const params = readParams(query, ['client_id', 'ticket', 'claims_redirect_uri', 'state'] as const);
  if (!params.client_id) throw invalidRequest('missing parameter client_id');
  const client = await deps.clients.byId(params.client_id);
  if (!client) throw invalidClient('unknown client_id');
  const claimsRedirectUri = registeredClaimsRedirectUri(client, params.claims_redirect_uri);
  const back = { claimsRedirectUri, state: params.state };
  if (!params.ticket) return errorRedirect(back, 'invalid_request', 'missing parameter ticket');
  const ticketHash = hashSecret(params.ticket);
  const ticket = await deps.uma.tickets.find(ticketHash);
  if (!ticket || (ticket.clientId !== undefined && ticket.clientId !== client._id)) {
    return errorRedirect(back, 'invalid_request', 'the permission ticket is invalid, expired or was already used');
  }
  const { record, cookie } = await deps.claimsInteractions.start({ clientId: client._id, claimsRedirectUri, state: params.state, ticketHash });
  return { kind: 'redirect', url: `${CLAIMS_PATH}/${record._id}`, cookies: [cookie] };
}

/** GET /uma/claims/:id: "continue as …" for a party signed in here (`signedIn`, an account id), else the sign-in form. */
export async function showClaimsInteraction(deps: ClaimsInteractionDeps, interaction: ClaimsInteractionDocument, signedIn: string | undefined): Promise<ClaimsOutcome> {
  const client = await requireClient(deps, interaction.clientId);
  const account = signedIn ? await deps.accounts.byId(signedIn) : null;
  return account ? { kind: 'needs-confirm', interaction, client, account } : { kind: 'needs-login', interaction, client };
}

/**
 * POST /uma/claims/:id/login: a local account signs in, which is itself the party's deliberate
 * act. Once signed in (the HTTP layer then starts the session), `continueAsSignedIn` ends the interaction.
 */
export async function attemptClaimsLogin(
  deps: ClaimsInteractionDeps,
  interaction: ClaimsInteractionDocument,
  form: { email?: string | undefined; password?: string | undefined },
  ip: string,
): Promise<ClaimsNeedsLogin | { kind: 'signed-in'; accountId: string }> {
  const client = await requireClient(deps, interaction.clientId);
  const email = normalizeEmail(form.email ?? '');
  const login = await deps.logins.attempt(ip, email, form.password ?? '');
  if (!login.ok) return { kind: 'needs-login', interaction, client, error: login.message, email, status: login.status };
  return { kind: 'signed-in', accountId: login.accountId };
}

/** The interaction ends with the claims of the account that just signed in. */
export async function continueAsSignedIn(deps: ClaimsInteractionDeps, interaction: ClaimsInteractionDocument, accountId: string): Promise<ClaimsRedirect> {
  const account = await deps.accounts.byId(accountId);
  if (!account) throw expired();
  return completeClaimsInteraction(deps, interaction._id, partyFromAccount(deps.config.issuer, account));
}

/**
 * POST /uma/claims/:id/confirm: the party signed in here (`signedIn`) continues as the account the
 * page showed, switches to another account (the sign-in form), or cancels (`access_denied`, ticket untouched).
 */
export async function submitClaimsConfirm(
  deps: ClaimsInteractionDeps,
  interaction: ClaimsInteractionDocument,
  choice: { decision: string | undefined; shownAccount: string | undefined },
  signedIn: string | undefined,
): Promise<ClaimsOutcome> {
  const client = await requireClient(deps, interaction.clientId);
  if (choice.decision === 'cancel') {
    const { record, cookie } = await deps.claimsInteractions.finish(interaction._id);
    if (!record) throw expired();
    return errorRedirect(interaction, 'access_denied', 'the requesting party declined to provide claims', [cookie]);
  }
  if (choice.decision === 'switch') return { kind: 'needs-login', interaction, client };
  if (choice.decision !== 'continue') throw invalidRequest('unknown decision');
  const account = signedIn ? await deps.accounts.byId(signedIn) : null;
  if (!account) return { kind: 'needs-login', interaction, client, error: 'Your session has ended. Sign in again.' };
  // Someone else signed in (another tab) since the page was shown: show the page again.
  if (account._id !== choice.shownAccount) return { kind: 'needs-confirm', interaction, client, account };
  return completeClaimsInteraction(deps, interaction._id, partyFromAccount(deps.config.issuer, account));
}

/**
 * The one way an interaction ends with claims, whoever proved them (a local account here; the
 * federation login with the claims an upstream provider verified, its browser checked by the trip):
 * finishes the interaction, spends the old ticket, issues one carrying the party and bound to the
 * client, and sends the browser back. An interaction already finished or expired is `expired()`.
 */
export async function completeClaimsInteraction(
  deps: Pick<ClaimsInteractionDeps, 'claimsInteractions' | 'uma'>,
  interactionId: string,
  party: RequestingParty,
): Promise<ClaimsRedirect> {
  const { record: interaction, cookie } = await deps.claimsInteractions.finish(interactionId);
  if (!interaction) throw expired();
  const spent = await deps.uma.tickets.spend(interaction.ticketHash);
  if (!spent) return errorRedirect(interaction, 'invalid_request', 'the permission ticket expired or was used while claims were being gathered', [cookie]);
  const ticket = await issueTicket(deps, {
    ownerId: spent.ownerId,
    resourceServerId: spent.resourceServerId,
    permissions: spent.permissions,
    requestingParty: party,
    clientId: interaction.clientId,
  });
  // `authorization_state` is UMA 1.0's (and HIE of One's); UMA 2.0 clients ignore it.
  return { kind: 'redirect', url: backTo(interaction, { ticket, authorization_state: 'claims_submitted' }), cookies: [cookie] };
}

/**
 * UMA Grant §3.3.2: the claims redirection URI must be one the client registered, compared
 * exactly; it may be left out only when the client registered exactly one.
 */
function registeredClaimsRedirectUri(client: ClientDocument, given: string | undefined): string {
  const list = client.metadata.claims_redirect_uris;
  const registered = Array.isArray(list) ? list.filter((uri): uri is string => typeof uri === 'string') : [];
  if (given !== undefined) {
    if (!registered.includes(given)) throw invalidRequest('claims_redirect_uri is not one this client registered');
    return given;
  }
  if (registered.length !== 1) throw invalidRequest('missing parameter claims_redirect_uri');
  return registered[0]!;
}

type Destination = { claimsRedirectUri: string; state?: string | undefined };

function backTo(target: Destination, params: Record<string, string>): string {
  const url = new URL(target.claimsRedirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (target.state !== undefined) url.searchParams.set('state', target.state);
  return url.href;
}

function errorRedirect(target: Destination, error: string, description: string, cookies: CookieToSet[] = []): ClaimsRedirect {
  return { kind: 'redirect', url: backTo(target, { error, error_description: description }), cookies };
}
