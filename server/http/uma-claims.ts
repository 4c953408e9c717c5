import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from './services.js';
import {
  CLAIMS_PATH,
  ClaimsInteractions,
  beginClaimsInteraction,
  expired,
  showClaimsInteraction,
  submitClaimsConfirm,
  submitClaimsLogin,
  type ClaimsOutcome,
} from '../uma/claims-interaction.js';
import { ProtocolError } from '../protocol/errors.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';

/** UMA 2.0 Grant §3.3.2: the claims interaction endpoint and the pages of a claims interaction. */
export function umaClaimsRoutes(router: Router, services: Services): void {
  const interaction = async (ctx: Context) => {
    const found = await (await ClaimsInteractions.of(services.store)).find(ctx, String(ctx.params.id));
    if (!found) throw expired();
    return found;
  };

  router.get(CLAIMS_PATH, claimsInteractionEndpoint(services));
  router.get(`${CLAIMS_PATH}/:id`, asPage(services, async (ctx) => showClaimsInteraction(services, ctx, await interaction(ctx))));

  router.post(`${CLAIMS_PATH}/:id/login`, asPage(services, async (ctx) => {
    const found = await interaction(ctx);
    const form = formOf(ctx);
    checkCsrf(form.csrf, found.csrf);
    return submitClaimsLogin(services, ctx, found, { email: stringField(form.email), password: stringField(form.password) });
  }));

  router.post(`${CLAIMS_PATH}/:id/confirm`, asPage(services, async (ctx) => {
    const found = await interaction(ctx);
    const form = formOf(ctx);
    checkCsrf(form.csrf, found.csrf);
    return submitClaimsConfirm(services, ctx, found, stringField(form.decision), stringField(form.account));
  }));
}

/** GET handler starting a claims interaction from the query; also serves HIE of One's `/rqp_claims`. */
export function claimsInteractionEndpoint(services: Services): Middleware {
  return asPage(services, (ctx) => beginClaimsInteraction(services, ctx, ctx.query));
}

/** Errors here are for a person in a browser: shown as a page, never a redirect to an unchecked URI. */
function asPage(services: Services, handler: (ctx: Context) => Promise<ClaimsOutcome>): Middleware {
  return async (ctx) => {
    try {
      const outcome = await handler(ctx);
      ctx.set('Cache-Control', 'no-store');
      if (outcome.kind === 'redirect') {
        // 303 so a browser follows a POSTed form with a GET.
        ctx.status = 303;
        ctx.redirect(outcome.url);
        return;
      }
      renderPage(ctx, services.views, outcome.page, outcome.title, outcome.data, outcome.status);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, services.views, err);
    }
  };
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
