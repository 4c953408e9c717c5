import type { Context } from 'koa';
import type { Services } from '../http/services.js';
import { setCookies } from '../http/cookies.js';
import { upstreamChoices } from '../federation/choices.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import { RedirectableError, parseAuthorizationRequest, type AuthorizationRequest } from './authorization-request.js';
import { authorizationError, issueAuthorizationCode } from './authorization.js';
import { decideConsent } from './consent.js';
import type { InteractionDocument } from './interactions.js';
import { SCOPE_DESCRIPTIONS } from './scopes.js';
import { requireClient } from './clients/interaction-client.js';

/** What the HTTP layer should do next: send the browser somewhere, or show a page. */
export type FlowOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'page'; page: 'login' | 'consent'; title: string; data: Record<string, unknown>; status?: number };

type Login = { accountId: string; authTime: number };

/** GET/POST /authorize: validate, then sign in, ask consent or answer at once. */
export async function beginAuthorization(services: Services, ctx: Context, params: unknown): Promise<FlowOutcome> {
  const { issuer } = services.config;
  try {
    const { request, client } = await parseAuthorizationRequest(params, services.clients);
    const session = await services.sessions.current(ctx.cookies);
    const login = session && !needsLogin(request, session.authTime) ? { accountId: session.accountId, authTime: session.authTime } : undefined;
    if (!login) {
      if (request.prompt.includes('none')) return errorRedirect(issuer, request, 'login_required', 'the user is not signed in');
      const interaction = await services.interactions.start(ctx, request);
      return { kind: 'redirect', url: `/interaction/${interaction._id}` };
    }
    return await afterLogin(services, ctx, request, client, login, undefined);
  } catch (err) {
    if (err instanceof RedirectableError) return { kind: 'redirect', url: authorizationError(issuer, err.redirectUri, err.code, err.description, err.state) };
    throw err;
  }
}

/** GET /interaction/:id: the page this interaction is waiting on. */
export async function showInteraction(services: Services, interaction: InteractionDocument): Promise<FlowOutcome> {
  const client = await requireClient(services, interaction.request.clientId);
  if (!interaction.login) return loginPage(services, interaction, client);
  return consentPage(services, interaction, client, interaction.login);
}

/** POST /interaction/:id/login. */
export async function submitLogin(services: Services, ctx: Context, interaction: InteractionDocument, form: { email?: string; password?: string }): Promise<FlowOutcome> {
  const client = await requireClient(services, interaction.request.clientId);
  const email = normalizeEmail(form.email ?? '');
  const outcome = await services.logins.attempt(ctx.ip, email, form.password ?? '');
  if (!outcome.ok) return { ...loginPage(services, interaction, client, outcome.message, email), status: outcome.status };
  setCookies(ctx, (await services.sessions.start(ctx.cookies, outcome.accountId)).cookie);
  const login = { accountId: outcome.accountId, authTime: Math.floor(Date.now() / 1000) };
  await services.interactions.recordLogin(interaction._id, login);
  return afterLogin(services, ctx, interaction.request, client, login, interaction);
}

/**
 * An account proved itself at an upstream provider (server/federation/login.ts, which checked
 * that this browser started the interaction): continues the interaction like a password login.
 * The caller (server/http/federation.ts) starts the session.
 */
export async function continueAfterUpstreamLogin(services: Services, ctx: Context, interactionId: string, accountId: string, authTime: number): Promise<FlowOutcome> {
  const interaction = await services.interactions.byId(interactionId);
  if (!interaction) throw expired();
  const client = await requireClient(services, interaction.request.clientId);
  const login = { accountId, authTime };
  await services.interactions.recordLogin(interaction._id, login);
  return afterLogin(services, ctx, interaction.request, client, login, interaction);
}

/** POST /interaction/:id/consent. */
export async function submitConsent(services: Services, ctx: Context, interaction: InteractionDocument, decision: string | undefined, chosen: string[]): Promise<FlowOutcome> {
  const { request } = interaction;
  const login = interaction.login;
  if (!login) throw new ProtocolError(400, 'invalid_request', 'sign in first');
  const client = await requireClient(services, request.clientId);
  if (!(await services.interactions.finish(ctx, interaction._id))) throw expired();
  if (decision !== 'allow') return errorRedirect(services.config.issuer, request, 'access_denied', 'the user denied the request');
  const consent = await decideConsent(services, client, login.accountId, request.scopes);
  const approved = consent.ask.filter((scope) => chosen.includes(scope) || consent.mandatory.includes(scope));
  return codeRedirect(services, request, login, [...consent.granted, ...approved]);
}

export function expired() {
  return new ProtocolError(400, 'invalid_request', 'this sign-in request has expired or was already used; start again from the app');
}

async function afterLogin(services: Services, ctx: Context, request: AuthorizationRequest, client: ClientDocument, login: Login, interaction: InteractionDocument | undefined): Promise<FlowOutcome> {
  const consent = await decideConsent(services, client, login.accountId, request.scopes);
  const mustAsk = consent.ask.length > 0 || request.prompt.includes('consent');
  if (!mustAsk) {
    if (interaction && !(await services.interactions.finish(ctx, interaction._id))) throw expired();
    return codeRedirect(services, request, login, consent.granted);
  }
  if (request.prompt.includes('none')) return errorRedirect(services.config.issuer, request, 'consent_required', 'the user has not consented to these scopes');
  if (interaction) return { kind: 'redirect', url: `/interaction/${interaction._id}` };
  const started = await services.interactions.start(ctx, request);
  await services.interactions.recordLogin(started._id, login);
  return { kind: 'redirect', url: `/interaction/${started._id}` };
}

async function codeRedirect(services: Services, request: AuthorizationRequest, login: Login, scopes: string[]): Promise<FlowOutcome> {
  const unique = [...new Set(scopes)].sort();
  if (unique.length === 0) return errorRedirect(services.config.issuer, request, 'invalid_scope', 'none of the requested scopes can be granted');
  const url = await issueAuthorizationCode({ grants: services.grants, tokens: services.tokens, issuer: services.config.issuer }, request, login, unique);
  return { kind: 'redirect', url };
}

function errorRedirect(issuer: string, request: AuthorizationRequest, code: string, description: string): FlowOutcome {
  return { kind: 'redirect', url: authorizationError(issuer, request.redirectUri, code, description, request.state) };
}

/**
 * The `max_age` an upstream login for this request must meet: the client's own, or 0 (sign in
 * now) for `prompt=login`. The upstream provider is asked for it and its `auth_time` checked.
 */
export function upstreamMaxAge(request: AuthorizationRequest): number | undefined {
  return request.prompt.includes('login') ? 0 : request.maxAge;
}

function needsLogin(request: AuthorizationRequest, authTime: number) {
  if (request.prompt.includes('login')) return true;
  return request.maxAge !== undefined && Math.floor(Date.now() / 1000) - authTime > request.maxAge;
}

function clientName(client: ClientDocument) {
  return client.metadata.client_name ?? client._id;
}

function loginPage(services: Services, interaction: InteractionDocument, client: ClientDocument, error?: string, email?: string): FlowOutcome & { kind: 'page' } {
  return {
    kind: 'page',
    page: 'login',
    title: 'Sign in',
    data: { client: clientName(client), action: `/interaction/${interaction._id}/login`, csrf: interaction.csrf, error, email: email ?? interaction.request.loginHint, upstream: upstreamChoices(services, `/interaction/${interaction._id}`) },
  };
}

async function consentPage(services: Services, interaction: InteractionDocument, client: ClientDocument, login: Login): Promise<FlowOutcome> {
  const consent = await decideConsent(services, client, login.accountId, interaction.request.scopes);
  const account = await services.accounts.byId(login.accountId);
  const shown = interaction.request.prompt.includes('consent') ? [...new Set([...consent.ask, ...consent.granted])].sort() : consent.ask;
  const describe = (scope: string) => SCOPE_DESCRIPTIONS[scope] ?? scope;
  return {
    kind: 'page',
    page: 'consent',
    title: 'Allow access?',
    data: {
      client: clientName(client),
      email: account?.email,
      action: `/interaction/${interaction._id}/consent`,
      csrf: interaction.csrf,
      ask: shown.map((name) => ({ name, description: describe(name), mandatory: consent.mandatory.includes(name) })),
      granted: interaction.request.prompt.includes('consent') ? [] : consent.granted.map((name) => ({ name, description: describe(name) })),
      denied: consent.denied.map((d) => ({ scope: d.scope, reason: d.reason === 'unknown_scope' ? 'not a scope this server knows' : 'this app is not registered for it' })),
    },
  };
}
