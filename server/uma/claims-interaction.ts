import type { Context } from 'koa';
import type { Services } from '../http/services.js';
import { setCookies } from '../http/cookies.js';
import { generateSecret, hashSecret, secretMatches } from '../crypto/secrets.js';
import { ProtocolError, invalidRequest } from '../protocol/errors.js';
import { readParams } from '../protocol/params.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';
import { upstreamChoices } from '../federation/choices.js';
import { partyFromAccount } from './requesting-party.js';
import { issueTicket } from './tickets.js';
import { requireClient } from '../oauth/clients/interaction-client.js';

/**
 * UMA 2.0 Grant §3.3.2–§3.3.3: interactive claims gathering. The client sends the requesting party
 * here with `client_id`, `ticket`, `claims_redirect_uri` and `state`; the party proves who they
 * are (a local account now; upstream OpenID providers later, through `completeClaimsInteraction`);
 * the ticket is spent and a new one, carrying the gathered claims and bound to that client, goes
 * back to the client at its registered claims redirection URI.
 *
 * Like an authorization request (and the UMA Implementer's Guide's advice on this flow), the
 * interaction is bound to the browser that started it, its forms carry a CSRF token, and a party
 * already signed in must still press "Continue", so a drive-by redirect cannot attach a session's
 * identity to someone's ticket silently.
 */
export interface ClaimsInteractionDocument extends StoredDocument {
  clientId: string;
  claimsRedirectUri: string;
  state?: string;
  /** Hash of the ticket the client sent; the ticket itself is never stored. */
  ticketHash: string;
  browserHash: string;
  csrf: string;
  finishedAt?: Date;
  expiresAt: Date;
}

/** What the HTTP layer should do next: send the browser somewhere, or show a page. */
export type ClaimsOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'page'; page: 'login' | 'claims'; title: string; data: Record<string, unknown>; status?: number };

/** Where the interaction pages live (the cookie binding the browser is scoped to it). */
export const CLAIMS_PATH = '/uma/claims';
const COOKIE = 'assent_claims';
const LIFETIME_SECONDS = 15 * 60;

export class ClaimsInteractions {
  private constructor(private readonly interactions: Collection<ClaimsInteractionDocument>) {}

  private static opened = new WeakMap<Store, Promise<ClaimsInteractions>>();

  /** One repository per store, opened on first use. */
  static of(store: Store): Promise<ClaimsInteractions> {
    let opened = ClaimsInteractions.opened.get(store);
    if (!opened) {
      opened = store.collection<ClaimsInteractionDocument>('uma_claims_interactions').then((c) => new ClaimsInteractions(c));
      ClaimsInteractions.opened.set(store, opened);
    }
    return opened;
  }

  async start(ctx: Context, fields: Pick<ClaimsInteractionDocument, 'clientId' | 'claimsRedirectUri' | 'state' | 'ticketHash'>): Promise<ClaimsInteractionDocument> {
    const binding = generateSecret();
    const interaction: ClaimsInteractionDocument = {
      _id: generateSecret(),
      clientId: fields.clientId,
      claimsRedirectUri: fields.claimsRedirectUri,
      ...(fields.state !== undefined ? { state: fields.state } : {}),
      ticketHash: fields.ticketHash,
      browserHash: hashSecret(binding),
      csrf: generateSecret(),
      expiresAt: new Date(Date.now() + LIFETIME_SECONDS * 1000),
    };
    await this.interactions.insert(interaction);
    ctx.cookies.set(cookieName(interaction._id), binding, { httpOnly: true, sameSite: 'lax', path: CLAIMS_PATH, maxAge: LIFETIME_SECONDS * 1000, overwrite: true });
    return interaction;
  }

  /** The interaction, if it exists, is unfinished and unexpired, and belongs to this browser. */
  async find(ctx: Context, id: string): Promise<ClaimsInteractionDocument | null> {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(id)) return null;
    const interaction = await this.interactions.findOne({ _id: id, finishedAt: { $exists: false } });
    const binding = ctx.cookies.get(cookieName(id));
    return interaction && binding && secretMatches(binding, interaction.browserHash) ? interaction : null;
  }

  /** The unfinished interaction by id, without the browser check: only for a caller that made that check earlier. */
  byId(id: string): Promise<ClaimsInteractionDocument | null> {
    return this.interactions.findOne({ _id: id, finishedAt: { $exists: false } });
  }

  /** Ends the interaction exactly once; a concurrent second submission gets null. */
  async finish(ctx: Context, id: string): Promise<ClaimsInteractionDocument | null> {
    const interaction = await this.interactions.consume({ _id: id, finishedAt: { $exists: false } }, { finishedAt: new Date() });
    ctx.cookies.set(cookieName(id), null, { httpOnly: true, sameSite: 'lax', path: CLAIMS_PATH, overwrite: true });
    return interaction;
  }
}

const cookieName = (id: string) => `${COOKIE}_${id.slice(0, 16)}`;

/**
 * GET /uma/claims (and the legacy /rqp_claims): checks the client and its claims redirection URI
 * — when either is wrong nobody is redirected anywhere (an error page) — then the ticket, whose
 * problems go back to the client as `error=invalid_request`; then starts the interaction.
 */
export async function beginClaimsInteraction(services: Services, ctx: Context, query: unknown): Promise<ClaimsOutcome> {
  const params = readParams(query, ['client_id', 'ticket', 'claims_redirect_uri', 'state'] as const);
  if (!params.client_id) throw invalidRequest('missing parameter client_id');
  const client = await services.clients.byId(params.client_id);
  if (!client) throw new ProtocolError(400, 'invalid_client', 'unknown client_id');
  const claimsRedirectUri = registeredClaimsRedirectUri(client, params.claims_redirect_uri);
  const back = { claimsRedirectUri, state: params.state };
  if (!params.ticket) return errorRedirect(back, 'invalid_request', 'missing parameter ticket');
  const ticketHash = hashSecret(params.ticket);
  const ticket = await services.uma.tickets.findOne({ _id: ticketHash, consumedAt: { $exists: false } });
  if (!ticket || (ticket.clientId !== undefined && ticket.clientId !== client._id)) {
    return errorRedirect(back, 'invalid_request', 'the permission ticket is invalid, expired or was already used');
  }
  const interactions = await ClaimsInteractions.of(services.store);
  const interaction = await interactions.start(ctx, { clientId: client._id, claimsRedirectUri, state: params.state, ticketHash });
  return { kind: 'redirect', url: `${CLAIMS_PATH}/${interaction._id}` };
}

/** GET /uma/claims/:id: "continue as …" for a signed-in party, else the sign-in form. */
export async function showClaimsInteraction(services: Services, ctx: Context, interaction: ClaimsInteractionDocument): Promise<ClaimsOutcome> {
  const client = await requireClient(services, interaction.clientId);
  const session = await services.sessions.current(ctx.cookies);
  const account = session ? await services.accounts.byId(session.accountId) : null;
  return account ? confirmPage(services, interaction, client, account) : loginPage(services, interaction, client);
}

/** POST /uma/claims/:id/login: a local account signs in, which is itself the party's deliberate act. */
export async function submitClaimsLogin(services: Services, ctx: Context, interaction: ClaimsInteractionDocument, form: { email?: string; password?: string }): Promise<ClaimsOutcome> {
  const client = await requireClient(services, interaction.clientId);
  const email = normalizeEmail(form.email ?? '');
  const outcome = await services.logins.attempt(ctx.ip, email, form.password ?? '');
  if (!outcome.ok) return { ...loginPage(services, interaction, client, outcome.message, email), status: outcome.status };
  setCookies(ctx, (await services.sessions.start(ctx.cookies, outcome.accountId)).cookie);
  const account = await services.accounts.byId(outcome.accountId);
  if (!account) throw expired();
  return completeClaimsInteraction(services, ctx, interaction, partyFromAccount(services.config.issuer, account));
}

/**
 * POST /uma/claims/:id/confirm: the signed-in party continues as the account the page showed,
 * switches to another account (the sign-in form), or cancels (`access_denied`, ticket untouched).
 */
export async function submitClaimsConfirm(services: Services, ctx: Context, interaction: ClaimsInteractionDocument, decision: string | undefined, shownAccount: string | undefined): Promise<ClaimsOutcome> {
  const client = await requireClient(services, interaction.clientId);
  if (decision === 'cancel') {
    if (!(await (await ClaimsInteractions.of(services.store)).finish(ctx, interaction._id))) throw expired();
    return errorRedirect(interaction, 'access_denied', 'the requesting party declined to provide claims');
  }
  if (decision === 'switch') return loginPage(services, interaction, client);
  if (decision !== 'continue') throw invalidRequest('unknown decision');
  const session = await services.sessions.current(ctx.cookies);
  const account = session ? await services.accounts.byId(session.accountId) : null;
  if (!account) return loginPage(services, interaction, client, 'Your session has ended. Sign in again.');
  // Someone else signed in (another tab) since the page was shown: show the page again.
  if (account._id !== shownAccount) return confirmPage(services, interaction, client, account);
  return completeClaimsInteraction(services, ctx, interaction, partyFromAccount(services.config.issuer, account));
}

/**
 * The one way an interaction ends with claims, whoever proved them (a local account here; the
 * federation login calls this too with the claims an upstream provider verified): spends the old
 * ticket, issues one carrying the party and bound to the client, and sends the browser back.
 */
export async function completeClaimsInteraction(services: Services, ctx: Context, interaction: ClaimsInteractionDocument, party: RequestingParty): Promise<ClaimsOutcome> {
  const interactions = await ClaimsInteractions.of(services.store);
  if (!(await interactions.finish(ctx, interaction._id))) throw expired();
  const spent = await services.uma.tickets.consume({ _id: interaction.ticketHash, consumedAt: { $exists: false } }, { consumedAt: new Date() });
  if (!spent) return errorRedirect(interaction, 'invalid_request', 'the permission ticket expired or was used while claims were being gathered');
  const ticket = await issueTicket(services, {
    ownerId: spent.ownerId,
    resourceServerId: spent.resourceServerId,
    permissions: spent.permissions,
    requestingParty: party,
    clientId: interaction.clientId,
  });
  // `authorization_state` is UMA 1.0's (and HIE of One's); UMA 2.0 clients ignore it.
  return { kind: 'redirect', url: backTo(interaction, { ticket, authorization_state: 'claims_submitted' }) };
}

export function expired() {
  return new ProtocolError(400, 'invalid_request', 'this claims request has expired or was already used; start again from the app');
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

function backTo(target: { claimsRedirectUri: string; state?: string | undefined }, params: Record<string, string>): string {
  const url = new URL(target.claimsRedirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (target.state !== undefined) url.searchParams.set('state', target.state);
  return url.href;
}

function errorRedirect(target: { claimsRedirectUri: string; state?: string | undefined }, error: string, description: string): ClaimsOutcome {
  return { kind: 'redirect', url: backTo(target, { error, error_description: description }) };
}

const clientName = (client: ClientDocument) => client.metadata.client_name ?? client._id;

/** The shared sign-in page; upstream "log in with …" choices will be offered on it too. */
function loginPage(services: Services, interaction: ClaimsInteractionDocument, client: ClientDocument, error?: string, email?: string): ClaimsOutcome & { kind: 'page' } {
  return {
    kind: 'page',
    page: 'login',
    title: 'Sign in',
    data: { client: clientName(client), action: `${CLAIMS_PATH}/${interaction._id}/login`, csrf: interaction.csrf, error, email, upstream: upstreamChoices(services, `${CLAIMS_PATH}/${interaction._id}`) },
  };
}

function confirmPage(services: Services, interaction: ClaimsInteractionDocument, client: ClientDocument, account: { _id: string; email: string; name?: string }): ClaimsOutcome & { kind: 'page' } {
  return {
    kind: 'page',
    page: 'claims',
    title: 'Confirm who you are',
    data: {
      client: clientName(client),
      email: account.email,
      name: account.name,
      account: account._id,
      action: `${CLAIMS_PATH}/${interaction._id}/confirm`,
      csrf: interaction.csrf,
      upstream: upstreamChoices(services, `${CLAIMS_PATH}/${interaction._id}`),
    },
  };
}
