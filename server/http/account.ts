import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { hashPassword, PASSWORD_MIN_LENGTH, passwordProblem } from '../crypto/password.js';
import { generateSecret } from '../crypto/secrets.js';
import { identitiesOf, upstreamChoices } from '../federation/choices.js';
import { normalizeEmail } from '../store/repositories/accounts.js';
import { mayAdministerTokens } from '../oauth/token-administration.js';
import { scopeSentence } from '../oauth/scopes.js';
import { Grants } from '../store/repositories/grants.js';
import type { SessionDocument } from '../store/repositories/sessions.js';
import { clientNames } from './client-names.js';
import { setCookies } from './cookies.js';
import { checkCsrf, formOf, renderPage } from './pages.js';
import { signedInAction, signedInPage } from './signed-in.js';
import { readParams, requireParam } from '../protocol/params.js';

const LOGIN_CSRF_COOKIE = 'assent_login_csrf';
const REAUTHENTICATE_TO_LINK = 'To link another identity, sign in again first.';
const PASSWORD_CHANGED = 'Your password was changed. Every other session of this account was signed out.';

/** The patient's own pages: sign in, connected apps with revoke, and "revoke everything". */
export function accountRoutes(router: Router, services: Services): void {
  const { sessions } = services;
  router.get('/login', (ctx) => loginForm(ctx, services, ctx.query.reason === 'link' ? REAUTHENTICATE_TO_LINK : undefined));
  router.post('/login', (ctx) => submitLogin(ctx, services));
  router.get('/account', signedInPage(sessions, (ctx, session) => showAccount(ctx, services, session, ctx.query.done === 'password-changed' ? { done: PASSWORD_CHANGED } : {})));
  router.post('/account/password', signedInAction(sessions, (ctx, session, form) => changePassword(ctx, services, session, form)));
  router.post('/account/apps/revoke', signedInAction(sessions, (_ctx, session, form) => revokeApp(services, session.accountId, form)));
  router.post('/account/revoke-all', signedInAction(sessions, (ctx, session) => revokeAll(ctx, services, session.accountId)));
  router.post('/account/logout', signedInAction(sessions, async (ctx) => {
    setCookies(ctx, await sessions.end(ctx.cookies));
    return '/login';
  }));
}

function loginForm(ctx: Context, services: Services, error?: string, email?: string, status = 200) {
  const csrf = generateSecret();
  ctx.cookies.set(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', path: '/login', overwrite: true });
  renderPage(ctx, services.views, 'login', 'Sign in', { action: '/login', csrf, error, email, upstream: upstreamChoices(services, '/login') }, status);
}

async function submitLogin(ctx: Context, services: Services) {
  const form = formOf(ctx);
  checkCsrf(form.csrf, ctx.cookies.get(LOGIN_CSRF_COOKIE) ?? generateSecret());
  const email = normalizeEmail(typeof form.email === 'string' ? form.email : '');
  const outcome = await services.logins.attempt(ctx.ip, email, typeof form.password === 'string' ? form.password : '');
  if (!outcome.ok) return loginForm(ctx, services, outcome.message, email, outcome.status);
  setCookies(ctx, (await services.sessions.start(ctx.cookies, outcome.accountId)).cookie);
  ctx.status = 303;
  ctx.redirect('/account');
}

async function showAccount(ctx: Context, services: Services, session: SessionDocument, notices: { done?: string; error?: string } = {}, status = 200) {
  const account = await services.accounts.byId(session.accountId);
  const grants = await services.grants.forAccount(session.accountId);
  const names = await clientNames(services.clients, grants.map((g) => g.clientId));
  const apps = grants.map((g) => ({ clientId: g.clientId, name: names.get(g.clientId), scopes: g.scopes.map(scopeSentence).join('; '), since: g.createdAt.toISOString().slice(0, 10) }));
  renderPage(ctx, services.views, 'account', 'Your account', {
    email: account?.email,
    hasPassword: Boolean(account?.passwordHash),
    passwordMinLength: PASSWORD_MIN_LENGTH,
    apps,
    tokenAdministration: await mayAdministerTokens(services, session.accountId),
    csrf: session.csrf,
    ...notices,
    ...(await identitiesOf(services, session.accountId)),
  }, status);
}

/**
 * The signed-in patient changes their password: the current one is checked like a sign-in
 * (same throttle), and every other session of the account ends; this one stays.
 */
async function changePassword(ctx: Context, services: Services, session: SessionDocument, form: Record<string, unknown>): Promise<string | undefined> {
  const refuse = (error: string, status = 400) => showAccount(ctx, services, session, { error }, status).then(() => undefined);
  const params = readParams(form, ['current_password', 'new_password', 'confirm_password'] as const);
  const account = await services.accounts.byId(session.accountId);
  if (!account?.passwordHash) return refuse('This account has no password to change.');
  const proof = await services.logins.attempt(ctx.ip, account.email, params.current_password ?? '');
  if (!proof.ok) return refuse(proof.status === 401 ? 'Your current password is not right.' : proof.message, proof.status);
  const next = params.new_password ?? '';
  if (next !== params.confirm_password) return refuse('The new password and its confirmation differ.');
  const problem = passwordProblem(next);
  if (problem) return refuse(`${problem[0]!.toUpperCase()}${problem.slice(1)}.`);
  await services.accounts.change(account._id, { passwordHash: await hashPassword(next) });
  await services.sessions.endOthers(session);
  return '/account?done=password-changed';
}

async function revokeApp(services: Services, accountId: string, form: Record<string, unknown>): Promise<string> {
  const clientId = requireParam(readParams(form, ['client_id'] as const), 'client_id');
  const grantId = Grants.idFor(accountId, clientId);
  await services.tokens.revoke({ grantId });
  await services.grants.remove(grantId);
  return '/account';
}

async function revokeAll(ctx: Context, services: Services, accountId: string): Promise<string> {
  await services.tokens.revoke({ accountId });
  await services.grants.removeOfAccount(accountId);
  // A stolen session may have linked someone else's identity: it goes too (the owner can link theirs again).
  await services.identities.unlinkAll(accountId);
  await services.sessions.endAllFor(accountId);
  setCookies(ctx, await services.sessions.end(ctx.cookies));
  return '/login';
}
