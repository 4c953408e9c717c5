import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from './services.js';
import {
  attemptClaimsLogin,
  beginClaimsInteraction,
  continueAsSignedIn,
  expired,
  showClaimsInteraction,
  submitClaimsConfirm,
  type ClaimsOutcome,
} from '../uma/claims-interaction.js';
import { CLAIMS_PATH, type ClaimsInteractionDocument } from '../store/repositories/claims-interactions.js';
import { ProtocolError } from '../protocol/errors.js';
import { setCookies } from './cookies.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';
import { claimsConfirmPage, claimsLoginPage } from './uma-claims-pages.js';

type ClaimsHandler = (ctx: Context, services: Services) => Promise<ClaimsOutcome>;

/** UMA 2.0 Grant §3.3.2: the claims interaction endpoint and the pages of a claims interaction. */
export function umaClaimsRoutes(router: Router, services: Services): void {
  router.get(CLAIMS_PATH, claimsInteractionEndpoint(services));
  router.get(`${CLAIMS_PATH}/:id`, asPage(services, showInteraction));
  router.post(`${CLAIMS_PATH}/:id/login`, asPage(services, submitLogin));
  router.post(`${CLAIMS_PATH}/:id/confirm`, asPage(services, submitConfirm));
}

/** GET handler starting a claims interaction from the query; also serves HIE of One's `/rqp_claims`. */
export function claimsInteractionEndpoint(services: Services): Middleware {
  return asPage(services, (ctx) => beginClaimsInteraction(services, ctx.query));
}

/**
 * Answers with what a claims interaction came to: the redirect (303, so a browser follows a
 * POSTed form with a GET) with the cookies it sets, or the page the party must see next.
 */
export function respondToClaims(ctx: Context, services: Services, outcome: ClaimsOutcome): void {
  ctx.set('Cache-Control', 'no-store');
  if (outcome.kind === 'redirect') {
    setCookies(ctx, ...outcome.cookies);
    ctx.status = 303;
    ctx.redirect(outcome.url);
    return;
  }
  const page = outcome.kind === 'needs-login' ? claimsLoginPage(services, outcome) : claimsConfirmPage(services, outcome);
  renderPage(ctx, services.views, page.page, page.title, page.data, page.status);
}

const showInteraction: ClaimsHandler = async (ctx, services) => showClaimsInteraction(services, await interactionOf(ctx, services), await signedIn(ctx, services));

async function submitLogin(ctx: Context, services: Services): Promise<ClaimsOutcome> {
  const interaction = await interactionOf(ctx, services);
  const form = formOf(ctx);
  checkCsrf(form.csrf, interaction.csrf);
  const login = await attemptClaimsLogin(services, interaction, { email: stringField(form.email), password: stringField(form.password) }, ctx.ip);
  if (login.kind !== 'signed-in') return login;
  setCookies(ctx, (await services.sessions.start(ctx.cookies, login.accountId)).cookie);
  return continueAsSignedIn(services, interaction, login.accountId);
}

async function submitConfirm(ctx: Context, services: Services): Promise<ClaimsOutcome> {
  const interaction = await interactionOf(ctx, services);
  const form = formOf(ctx);
  checkCsrf(form.csrf, interaction.csrf);
  return submitClaimsConfirm(services, interaction, { decision: stringField(form.decision), shownAccount: stringField(form.account) }, await signedIn(ctx, services));
}

/** The interaction of the URL, when it is this browser's. */
async function interactionOf(ctx: Context, services: Services): Promise<ClaimsInteractionDocument> {
  const found = await services.claimsInteractions.find(String(ctx.params.id), ctx.cookies);
  if (!found) throw expired();
  return found;
}

async function signedIn(ctx: Context, services: Services): Promise<string | undefined> {
  return (await services.sessions.current(ctx.cookies))?.accountId;
}

/** Errors here are for a person in a browser: shown as a page, never a redirect to an unchecked URI. */
function asPage(services: Services, handler: ClaimsHandler): Middleware {
  return async (ctx) => {
    try {
      respondToClaims(ctx, services, await handler(ctx, services));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, services.views, err);
    }
  };
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
