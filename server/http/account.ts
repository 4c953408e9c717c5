import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { hashPassword, PASSWORD_MIN_LENGTH, passwordProblem } from '../crypto/password.js';
import { generateSecret } from '../crypto/secrets.js';
import { identitiesOf, upstreamChoices } from '../federation/choices.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import { Grants } from '../store/repositories/grants.js';
import type { SessionDocument } from '../sessions/sessions.js';
import { checkCsrf, formOf, renderPage } from './pages.js';
import { readParams, requireParam } from '../protocol/params.js';

const LOGIN_CSRF_COOKIE = 'assent_login_csrf';
const REAUTHENTICATE_TO_LINK = 'To link another identity, sign in again first.';
const PASSWORD_CHANGED = 'Your password was changed. Every other session of this account was signed out.';

/** The patient's own pages: sign in, connected apps with revoke, and "revoke everything". */
export function accountRoutes(router: Router, services: Services): void {
  const { views } = services;

  const loginForm = (ctx: Context, error?: string, email?: string, status = 200) => {
    const csrf = generateSecret();
    ctx.cookies.set(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', path: '/login', overwrite: true });
    renderPage(ctx, views, 'login', 'Sign in', { action: '/login', csrf, error, email, upstream: upstreamChoices(services, '/login') }, status);
  };

  router.get('/login', (ctx) => loginForm(ctx, ctx.query.reason === 'link' ? REAUTHENTICATE_TO_LINK : undefined));
  router.post('/login', async (ctx) => {
    const form = formOf(ctx);
    checkCsrf(form.csrf, ctx.cookies.get(LOGIN_CSRF_COOKIE) ?? generateSecret());
    const email = normalizeEmail(typeof form.email === 'string' ? form.email : '');
    const outcome = await services.logins.attempt(ctx.ip, email, typeof form.password === 'string' ? form.password : '');
    if (!outcome.ok) return loginForm(ctx, outcome.message, email, outcome.status);
    await services.sessions.start(ctx, outcome.accountId);
    ctx.status = 303;
    ctx.redirect('/account');
  });

  const showAccount = async (ctx: Context, session: SessionDocument, notices: { done?: string; error?: string } = {}, status = 200) => {
    const account = await services.accounts.byId(session.accountId);
    const grants = await services.grants.forAccount(session.accountId);
    const apps = await Promise.all(
      grants.map(async (g) => {
        const client = await services.clients.byId(g.clientId);
        return { clientId: g.clientId, name: client?.metadata.client_name ?? g.clientId, scopes: g.scopes.join(', '), since: g.createdAt.toISOString().slice(0, 10) };
      }),
    );
    renderPage(ctx, views, 'account', 'Your account', {
      email: account?.email,
      hasPassword: Boolean(account?.passwordHash),
      passwordMinLength: PASSWORD_MIN_LENGTH,
      apps,
      csrf: session.csrf,
      ...notices,
      ...(await identitiesOf(services, session.accountId)),
    }, status);
  };

  router.get('/account', async (ctx) => {
    const session = await services.sessions.current(ctx);
    if (!session) return ctx.redirect('/login');
    await showAccount(ctx, session, ctx.query.done === 'password-changed' ? { done: PASSWORD_CHANGED } : {});
  });

  /**
   * The signed-in patient changes their password: the current one is checked like a sign-in
   * (same throttle), and every other session of the account ends; this one stays.
   */
  router.post('/account/password', async (ctx) => {
    const session = await services.sessions.current(ctx);
    if (!session) return ctx.redirect('/login');
    const form = formOf(ctx);
    checkCsrf(form.csrf, session.csrf);
    const params = readParams(form, ['current_password', 'new_password', 'confirm_password'] as const);
    const account = await services.accounts.byId(session.accountId);
    if (!account?.passwordHash) return showAccount(ctx, session, { error: 'This account has no password to change.' }, 400);
    const proof = await services.logins.attempt(ctx.ip, account.email, params.current_password ?? '');
    if (!proof.ok) return showAccount(ctx, session, { error: proof.status === 401 ? 'Your current password is not right.' : proof.message }, proof.status);
    const next = params.new_password ?? '';
    if (next !== params.confirm_password) return showAccount(ctx, session, { error: 'The new password and its confirmation differ.' }, 400);
    const problem = passwordProblem(next);
    if (problem) return showAccount(ctx, session, { error: `${problem[0]!.toUpperCase()}${problem.slice(1)}.` }, 400);
    await services.accounts.change(account._id, { passwordHash: await hashPassword(next) });
    await services.sessions.endOthers(session);
    ctx.status = 303;
    ctx.redirect('/account?done=password-changed');
  });

  /** Runs a POSTed account action for the signed-in user, CSRF-checked, then shows the account page again. */
  const action = (run: (ctx: Context, accountId: string, form: Record<string, unknown>) => Promise<string>) => async (ctx: Context) => {
    const session = await services.sessions.current(ctx);
    if (!session) return ctx.redirect('/login');
    const form = formOf(ctx);
    checkCsrf(form.csrf, session.csrf);
    ctx.status = 303;
    ctx.redirect(await run(ctx, session.accountId, form));
  };

  router.post('/account/apps/revoke', action(async (_ctx, accountId, form) => {
    const clientId = requireParam(readParams(form, ['client_id'] as const), 'client_id');
    const grantId = Grants.idFor(accountId, clientId);
    await services.tokens.revoke({ grantId });
    await services.grants.remove(grantId);
    return '/account';
  }));

  router.post('/account/revoke-all', action(async (ctx, accountId) => {
    await services.tokens.revoke({ accountId });
    await services.grants.removeOfAccount(accountId);
    // A stolen session may have linked someone else's identity: it goes too (the owner can link theirs again).
    await services.identities.unlinkAll(accountId);
    await services.sessions.endAllFor(accountId);
    await services.sessions.end(ctx);
    return '/login';
  }));

  router.post('/account/logout', action(async (ctx) => {
    await services.sessions.end(ctx);
    return '/login';
  }));
}
