import type { ConsentChoice, ConsentOutput } from '../policy/entrypoints.js';
import { invalidRequest } from '../protocol/errors.js';
import type { Logins } from '../sessions/logins.js';
import type { Accounts } from '../store/repositories/accounts.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import type { CookieToSet } from '../store/repositories/browser-bound.js';
import type { ClientDocument, Clients } from '../store/repositories/clients.js';
import type { Launches } from '../store/repositories/launches.js';
import type { Tokens } from '../store/repositories/tokens.js';
import { mayPickPatient } from '../smart/patient-pick.js';
import { RedirectableError, parseAuthorizationRequest, type AuthorizationRequest } from './authorization-request.js';
import { authorizationError, issueAuthorizationCode } from './authorization-response.js';
import { decideConsent, type ConsentDeps } from './consent.js';
import type { InteractionDocument, Interactions, Login } from './interactions.js';
import { requireClient } from './clients/interaction-client.js';
import { redeemLaunch } from './ehr-launch.js';
import { needsPatient, patientStep, withPatient } from './launch-patient.js';

export interface AuthorizationFlowDeps extends ConsentDeps {
  config: { issuer: string; fhirBaseUrls: readonly string[] };
  clients: Clients;
  launches: Launches;
  accounts: Accounts;
  interactions: Interactions;
  logins: Logins;
  tokens: Tokens;
}

/** A patient the picker offers: the id, and the name of the patient's own account here, if it has one. */
export interface PatientOption {
  id: string;
  name?: string;
}

/** The interaction a page is for: where its forms post, the CSRF token they echo, whom they are for. */
export interface InteractionView {
  id: string;
  csrf: string;
  clientName: string;
}

/**
 * What happened to an authorization request, for the HTTP layer to answer: send the browser on
 * (to the interaction's page, or back to the client with a code), send the client an error, or
 * show the login or consent page. `cookies` are to be set on the response; `signIn` is a login
 * the browser's session is to start with.
 */
export type AuthorizationOutcome = (
  | { kind: 'redirect'; url: string }
  | { kind: 'error-redirect'; url: string; error: string }
  | { kind: 'needs-login'; interaction: InteractionView; email: string | undefined; failure?: { message: string; status: number } }
  | { kind: 'needs-consent'; interaction: InteractionView; email: string | undefined; consent: ConsentOutput; reconsent: boolean }
  | { kind: 'needs-patient'; interaction: InteractionView; email: string | undefined; patients: PatientOption[] }
) & { cookies?: CookieToSet[]; signIn?: Login };

/** GET/POST /authorize: validate, then sign in, ask consent or answer at once. `session` is the browser's current login. */
export async function beginAuthorization(deps: AuthorizationFlowDeps, params: unknown, session: Login | null): Promise<AuthorizationOutcome> {
  const { issuer } = deps.config;
  try {
    const parsed = await parseAuthorizationRequest(params, deps.clients, deps.config.fhirBaseUrls);
    const { client } = parsed;
    const request = await redeemLaunch(deps, parsed.request);
    const login = session && !needsLogin(request, session.authTime) ? session : undefined;
    if (!login) {
      if (request.prompt.includes('none')) return errorRedirect(issuer, request, 'login_required', 'the user is not signed in');
      const { interaction, cookie } = await deps.interactions.start(request);
      return { kind: 'redirect', url: interactionPath(interaction), cookies: [cookie] };
    }
    return await afterLogin(deps, request, client, login, undefined);
  } catch (err) {
    if (!(err instanceof RedirectableError)) throw err;
    return { kind: 'error-redirect', url: authorizationError(issuer, err.redirectUri, err.code, err.description, err.state), error: err.code };
  }
}

/** GET /interaction/:id: the page this interaction is waiting on. */
export async function showInteraction(deps: AuthorizationFlowDeps, interaction: InteractionDocument): Promise<AuthorizationOutcome> {
  const client = await requireClient(deps, interaction.request.clientId);
  const view = { id: interaction._id, csrf: interaction.csrf, clientName: clientName(client) };
  if (!interaction.login) return { kind: 'needs-login', interaction: view, email: interaction.request.loginHint };
  const account = await deps.accounts.byId(interaction.login.accountId);
  const step = await patientStep(deps, interaction.request, interaction.login);
  if ('offer' in step) return { kind: 'needs-patient', interaction: view, email: account?.email, patients: await patientOptions(deps.accounts, step.offer) };
  const consent = await decideConsent(deps, client, interaction.login.accountId, interaction.request);
  return { kind: 'needs-consent', interaction: view, email: account?.email, consent, reconsent: interaction.request.prompt.includes('consent') };
}

/** POST /interaction/:id/login, from `address`. */
export async function submitLogin(deps: AuthorizationFlowDeps, interaction: InteractionDocument, form: { email?: string; password?: string }, address: string): Promise<AuthorizationOutcome> {
  const client = await requireClient(deps, interaction.request.clientId);
  const email = normalizeEmail(form.email ?? '');
  const outcome = await deps.logins.attempt(address, email, form.password ?? '');
  if (!outcome.ok) {
    const view = { id: interaction._id, csrf: interaction.csrf, clientName: clientName(client) };
    return { kind: 'needs-login', interaction: view, email, failure: { message: outcome.message, status: outcome.status } };
  }
  const login = { accountId: outcome.accountId, authTime: Math.floor(Date.now() / 1000) };
  await deps.interactions.recordLogin(interaction._id, login);
  return { ...(await afterLogin(deps, interaction.request, client, login, interaction)), signIn: login };
}

/**
 * An account proved itself at an upstream provider (the federation handler checked that this
 * browser started the interaction): continues the interaction like a password login, and the
 * outcome's `signIn` starts the browser's session with that login.
 */
export async function continueAfterUpstreamLogin(deps: AuthorizationFlowDeps, interactionId: string, login: Login): Promise<AuthorizationOutcome> {
  const interaction = await deps.interactions.byId(interactionId);
  if (!interaction) throw expired();
  const client = await requireClient(deps, interaction.request.clientId);
  await deps.interactions.recordLogin(interaction._id, login);
  return { ...(await afterLogin(deps, interaction.request, client, login, interaction)), signIn: login };
}

/** POST /interaction/:id/consent. */
export async function submitConsent(deps: AuthorizationFlowDeps, interaction: InteractionDocument, decision: string | undefined, choice: ConsentChoice): Promise<AuthorizationOutcome> {
  const { request, login } = interaction;
  if (!login) throw invalidRequest('sign in first');
  const client = await requireClient(deps, request.clientId);
  const { interaction: finished, cookie } = await deps.interactions.finish(interaction._id);
  if (!finished) throw expired();
  if (decision !== 'allow') return { ...errorRedirect(deps.config.issuer, request, 'access_denied', 'the user denied the request'), cookies: [cookie] };
  const consent = await decideConsent(deps, client, login.accountId, request, choice);
  return { ...(await codeRedirect(deps, request, login, consent.chosen ?? [])), cookies: [cookie] };
}

/** POST /interaction/:id/patient: the patient a practitioner chose on the picker, if the access policy lets them. */
export async function submitPatient(deps: AuthorizationFlowDeps, interaction: InteractionDocument, patient: string | undefined): Promise<AuthorizationOutcome> {
  const { request, login } = interaction;
  if (!login) throw invalidRequest('sign in first');
  if (!needsPatient(request)) throw invalidRequest('this sign-in request does not ask for a patient');
  const account = await deps.accounts.usable(login.accountId);
  if (!account || !patient || !(await mayPickPatient(deps, account, patient))) throw invalidRequest('choose one of the patients offered');
  const client = await requireClient(deps, request.clientId);
  const chosen = withPatient(request, patient);
  await deps.interactions.recordRequest(interaction._id, chosen);
  return afterLogin(deps, chosen, client, login, { ...interaction, request: chosen });
}

export function expired() {
  return invalidRequest('this sign-in request has expired or was already used; start again from the app');
}

async function afterLogin(deps: AuthorizationFlowDeps, asked: AuthorizationRequest, client: ClientDocument, login: Login, interaction: InteractionDocument | undefined): Promise<AuthorizationOutcome> {
  const step = await patientStep(deps, asked, login);
  if ('offer' in step) return pickPatientFirst(deps, asked, login, interaction);
  const { request } = step;
  if (interaction && request !== asked) await deps.interactions.recordRequest(interaction._id, request);
  const consent = await decideConsent(deps, client, login.accountId, request);
  const mustAsk = consent.ask.length > 0 || request.prompt.includes('consent');
  if (!mustAsk) {
    if (!interaction) return codeRedirect(deps, request, login, consent.granted);
    const { interaction: finished, cookie } = await deps.interactions.finish(interaction._id);
    if (!finished) throw expired();
    return { ...(await codeRedirect(deps, request, login, consent.granted)), cookies: [cookie] };
  }
  if (request.prompt.includes('none')) return errorRedirect(deps.config.issuer, request, 'consent_required', 'the user has not consented to these scopes');
  if (interaction) return { kind: 'redirect', url: interactionPath(interaction) };
  const started = await deps.interactions.start(request, login);
  return { kind: 'redirect', url: interactionPath(started.interaction), cookies: [started.cookie] };
}

/** The picker comes before consent (what may be granted depends on the patient in context). */
async function pickPatientFirst(deps: AuthorizationFlowDeps, request: AuthorizationRequest, login: Login, interaction: InteractionDocument | undefined): Promise<AuthorizationOutcome> {
  if (request.prompt.includes('none')) return errorRedirect(deps.config.issuer, request, 'interaction_required', 'a patient must be chosen');
  if (interaction) return { kind: 'redirect', url: interactionPath(interaction) };
  const started = await deps.interactions.start(request, login);
  return { kind: 'redirect', url: interactionPath(started.interaction), cookies: [started.cookie] };
}

async function codeRedirect(deps: AuthorizationFlowDeps, request: AuthorizationRequest, login: Login, scopes: string[]): Promise<AuthorizationOutcome> {
  const unique = [...new Set(scopes)].sort();
  if (unique.length === 0) return errorRedirect(deps.config.issuer, request, 'invalid_scope', 'none of the requested scopes can be granted');
  return { kind: 'redirect', url: await issueAuthorizationCode(deps, request, login, unique) };
}

function errorRedirect(issuer: string, request: AuthorizationRequest, code: string, description: string): AuthorizationOutcome & { kind: 'error-redirect' } {
  return { kind: 'error-redirect', url: authorizationError(issuer, request.redirectUri, code, description, request.state), error: code };
}

function interactionPath(interaction: InteractionDocument): string {
  return `/interaction/${interaction._id}`;
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

async function patientOptions(accounts: Accounts, ids: string[]): Promise<PatientOption[]> {
  const named = new Map((await accounts.byFhirUsers(ids.map((id) => `Patient/${id}`))).map((a) => [a.fhirUser, a.name]));
  return ids.map((id) => ({ id, ...(named.has(`Patient/${id}`) ? { name: named.get(`Patient/${id}`) } : {}) }));
}

function clientName(client: ClientDocument) {
  return client.metadata.client_name ?? client._id;
}
