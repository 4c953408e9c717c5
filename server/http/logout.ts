import type Router from '@koa/router';
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { redirectWith } from '../oauth/authorization-response.js';
import { setCookies } from './cookies.js';
import { checkCsrf, formOf, renderPage } from './pages.js';
import { readParams } from '../protocol/params.js';

interface LogoutTarget {
  clientName?: string;
  redirect?: string;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0: the user confirms, the session ends, and the browser
 * returns to the client only to a post_logout_redirect_uri that client registered.
 */
export function logoutRoutes(router: Router, services: Services): void {
  const { views } = services;

  const target = async (params: Record<string, unknown>): Promise<LogoutTarget> => {
    const p = readParams(params, ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const);
    const clientId = p.client_id ?? hintedClient(p.id_token_hint);
    const client = clientId ? await services.clients.byId(clientId) : null;
    if (!client) return {};
    const registered = (client.metadata.post_logout_redirect_uris as string[] | undefined) ?? [];
    const redirect = p.post_logout_redirect_uri && registered.includes(p.post_logout_redirect_uri)
      ? redirectWith(p.post_logout_redirect_uri, services.config.issuer, { state: p.state })
      : undefined;
    return { clientName: client.metadata.client_name ?? client._id, ...(redirect ? { redirect } : {}) };
  };

  const confirm = async (ctx: Context, params: Record<string, unknown>) => {
    const session = await services.sessions.current(ctx.cookies);
    const { clientName } = await target(params);
    if (!session) return renderPage(ctx, views, 'message', 'Signed out', { message: 'You are signed out.' });
    const carried = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
    renderPage(ctx, views, 'logout', 'Sign out', { client: clientName, csrf: session.csrf, logout: carried });
  };

  router.get('/logout', (ctx) => confirm(ctx, ctx.query));
  router.post('/logout', async (ctx) => {
    const form = formOf(ctx);
    if (typeof form.csrf !== 'string') return confirm(ctx, form);
    const session = await services.sessions.current(ctx.cookies);
    if (session) checkCsrf(form.csrf, session.csrf);
    setCookies(ctx, await services.sessions.end(ctx.cookies));
    const { redirect } = await target(Object.fromEntries(new URLSearchParams(typeof form.logout === 'string' ? form.logout : '')));
    if (redirect) {
      ctx.status = 303;
      return ctx.redirect(redirect);
    }
    renderPage(ctx, views, 'message', 'Signed out', { message: 'You are signed out.' });
  });
}

/** The client an id_token_hint names; only its audience is used, to find registered redirect URIs. */
function hintedClient(hint: string | undefined): string | undefined {
  if (!hint) return undefined;
  try {
    const { aud } = decodeJwt(hint);
    return Array.isArray(aud) ? aud[0] : aud;
  } catch {
    return undefined;
  }
}
