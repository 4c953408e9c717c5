import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import {
  issuanceOverview,
  requireTokenAdministrator,
  revokeGrantById,
  revokeIssuanceOf,
  revokeTokenById,
  type TokenAdministrationDeps,
  type TokenKind,
} from '../oauth/token-administration.js';
import { invalidRequest, type ProtocolError } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import type { SessionDocument } from '../store/repositories/sessions.js';
import { adminDoneMessage, adminPage } from '../views/admin.js';
import { renderErrorPage, renderPage } from './pages.js';
import { refusalOf, signedInAction, signedInPage } from './signed-in.js';

const KINDS: readonly TokenKind[] = ['access', 'refresh'];

type AdminAction = (deps: TokenAdministrationDeps, form: Record<string, unknown>) => Promise<string>;

/**
 * Token administration under /admin/tokens: every client with its grants and live tokens, and
 * POST forms (with the session's CSRF token) that revoke one token, one grant, or everything a
 * client was issued. Who may is the access policy's token_administration rule: anyone else
 * signed in gets 403, and nobody signed in is sent to sign in.
 */
export function adminRoutes(router: Router, services: Services): void {
  const { sessions } = services;
  const refused = (ctx: Context, _session: SessionDocument, err: ProtocolError) => Promise.resolve(renderErrorPage(ctx, services.views, err));
  const action = (run: AdminAction) =>
    signedInAction(sessions, async (_ctx, session, form) => {
      await requireTokenAdministrator(services, session.accountId);
      return `/admin/tokens?done=${await run(services, form)}`;
    }, refused);

  router.get('/admin/tokens', signedInPage(sessions, (ctx, session) => showAdmin(ctx, services, session)));
  router.post('/admin/tokens/revoke', action(postTokenRevocation));
  router.post('/admin/tokens/grants/revoke', action(postGrantRevocation));
  router.post('/admin/tokens/clients/revoke', action(postClientRevocation));
}

async function showAdmin(ctx: Context, services: Services, session: SessionDocument) {
  try {
    await requireTokenAdministrator(services, session.accountId);
  } catch (err) {
    return renderErrorPage(ctx, services.views, refusalOf(err));
  }
  const [account, clients] = await Promise.all([services.accounts.byId(session.accountId), issuanceOverview(services)]);
  renderPage(ctx, services.views, 'admin', 'Token administration', adminPage(clients, { email: account?.email, csrf: session.csrf, done: adminDoneMessage(ctx.query.done) }));
}

async function postTokenRevocation(deps: TokenAdministrationDeps, form: Record<string, unknown>) {
  const params = readParams(form, ['kind', 'id'] as const);
  const kind = requireParam(params, 'kind') as TokenKind;
  if (!KINDS.includes(kind)) throw invalidRequest('kind must be access or refresh');
  await revokeTokenById(deps, kind, requireParam(params, 'id'));
  return 'token-revoked';
}

async function postGrantRevocation(deps: TokenAdministrationDeps, form: Record<string, unknown>) {
  await revokeGrantById(deps, requireParam(readParams(form, ['grant_id'] as const), 'grant_id'));
  return 'grant-revoked';
}

async function postClientRevocation(deps: TokenAdministrationDeps, form: Record<string, unknown>) {
  await revokeIssuanceOf(deps, requireParam(readParams(form, ['client_id'] as const), 'client_id'));
  return 'client-revoked';
}
