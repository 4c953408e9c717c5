import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from './services.js';
import type { ConsentChoice } from '../policy/entrypoints.js';
import { beginAuthorization, expired, showInteraction, submitConsent, submitLogin, submitPatient, type AuthorizationOutcome } from '../oauth/authorization-flow.js';
import type { InteractionDocument } from '../oauth/interactions.js';
import { ProtocolError, invalidRequest } from '../protocol/errors.js';
import { consentPage, loginPage, patientPickerPage, type PageModel } from './authorize-pages.js';
import { setCookies } from './cookies.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';

/** The authorization endpoint and the login/consent pages of an authorization request. */
export function authorizeRoutes(router: Router, services: Services): void {
  router.get('/authorize', asPage(services, authorizeByQuery));
  router.post('/authorize', asPage(services, authorizeByForm));
  router.get('/interaction/:id', asPage(services, show));
  router.post('/interaction/:id/login', asPage(services, login));
  router.post('/interaction/:id/consent', asPage(services, consent));
  router.post('/interaction/:id/patient', asPage(services, pickPatient));
}

/**
 * Answers what happened to an authorization request: starts the session it signed in, sets its
 * cookies, then redirects (303, so a browser follows a POSTed form with a GET) or shows the page.
 */
export async function respondToAuthorization(ctx: Context, services: Services, outcome: AuthorizationOutcome): Promise<void> {
  if (outcome.signIn) setCookies(ctx, (await services.sessions.start(ctx.cookies, outcome.signIn.accountId, outcome.signIn.authTime)).cookie);
  setCookies(ctx, ...(outcome.cookies ?? []));
  ctx.set('Cache-Control', 'no-store');
  switch (outcome.kind) {
    case 'redirect':
    case 'error-redirect':
      ctx.status = 303;
      ctx.redirect(outcome.url);
      return;
    case 'needs-login':
    case 'needs-consent':
    case 'needs-patient': {
      const page = pageOf(services, outcome);
      renderPage(ctx, services.views, page.page, page.title, page.data, page.status);
    }
  }
}

function pageOf(services: Services, outcome: AuthorizationOutcome & { kind: 'needs-login' | 'needs-consent' | 'needs-patient' }): PageModel {
  if (outcome.kind === 'needs-login') return loginPage(services.upstream, outcome);
  return outcome.kind === 'needs-consent' ? consentPage(outcome) : patientPickerPage(outcome);
}

type Step = (ctx: Context, services: Services) => Promise<AuthorizationOutcome>;

/** Protocol errors in these routes are for a person in a browser: show them as a page. */
function asPage(services: Services, step: Step): Middleware {
  return async (ctx) => {
    try {
      await respondToAuthorization(ctx, services, await step(ctx, services));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, services.views, err);
    }
  };
}

async function authorizeByQuery(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  return beginAuthorization(services, ctx.query, await currentLogin(ctx, services));
}

async function authorizeByForm(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  // OpenID Connect Core §3.1.2.1: a POSTed authorization request is form-serialized.
  if (!ctx.is('application/x-www-form-urlencoded')) throw invalidRequest('the body must be application/x-www-form-urlencoded');
  return beginAuthorization(services, formOf(ctx), await currentLogin(ctx, services));
}

async function show(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  return showInteraction(services, await interactionOf(services, ctx));
}

async function login(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  const found = await interactionOf(services, ctx);
  const form = formOf(ctx);
  checkCsrf(form.csrf, found.csrf);
  return submitLogin(services, found, { email: stringField(form.email), password: stringField(form.password) }, ctx.ip);
}

async function consent(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  const found = await interactionOf(services, ctx);
  const form = formOf(ctx);
  checkCsrf(form.csrf, found.csrf);
  return submitConsent(services, found, stringField(form.decision), consentChoice(form.scope, form.category));
}

/**
 * The consent form's ticks: `scope` (each ticked scope) and `category` (`<scope> <code>`, a scope
 * having no space), as the policy's choice; anything else in them is ignored.
 */
function consentChoice(scope: unknown, category: unknown): ConsentChoice {
  const strings = (value: unknown) => ([] as unknown[]).concat(value ?? []).filter((s): s is string => typeof s === 'string');
  const codes = new Map<string, string[]>();
  for (const pair of strings(category)) {
    const [name, code, ...rest] = pair.split(' ');
    if (name && code && rest.length === 0) codes.set(name, [...(codes.get(name) ?? []), code]);
  }
  return { scopes: strings(scope), categories: [...codes].map(([name, chosen]) => ({ scope: name, codes: chosen })) };
}

async function pickPatient(ctx: Context, services: Services): Promise<AuthorizationOutcome> {
  const found = await interactionOf(services, ctx);
  const form = formOf(ctx);
  checkCsrf(form.csrf, found.csrf);
  return submitPatient(services, found, stringField(form.patient));
}

async function currentLogin(ctx: Context, services: Services) {
  const session = await services.sessions.current(ctx.cookies);
  return session ? { accountId: session.accountId, authTime: session.authTime } : null;
}

/** The interaction of the path, when this browser started it. */
async function interactionOf(services: Services, ctx: Context): Promise<InteractionDocument> {
  const found = await services.interactions.find(String(ctx.params.id), ctx.cookies);
  if (!found) throw expired();
  return found;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
