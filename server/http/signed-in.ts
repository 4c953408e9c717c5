import type { Context } from 'koa';
import type { SessionDocument, Sessions } from '../store/repositories/sessions.js';
import { ProtocolError } from '../protocol/errors.js';
import { checkCsrf, formOf } from './pages.js';

/** What a signed-in page or action needs of the sessions: the browser's current one. */
export type CurrentSession = Pick<Sessions, 'current'>;

/**
 * The work of a POSTed action: it returns the path to redirect to (303, so the browser GETs it
 * and a reload does not post again), or undefined when it has written the response itself.
 */
export type SignedInRun = (ctx: Context, session: SessionDocument, form: Record<string, unknown>) => Promise<string | undefined>;

/**
 * How a page shows a ProtocolError below 500 that the action threw (bad input, unknown id):
 * typically the same page again with the error and the error's status. Without it, the error
 * propagates to the app's error handling.
 */
export type SignedInRefusal = (ctx: Context, session: SessionDocument, err: ProtocolError) => Promise<void>;

/**
 * A POST handler for the signed-in user: with no session it redirects to /login; otherwise it
 * reads the form, checks its CSRF token against the session's (a forged form is a 403 before
 * anything runs), runs the action and redirects where it says.
 */
export function signedInAction(sessions: CurrentSession, run: SignedInRun, refused?: SignedInRefusal): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const session = await sessions.current(ctx.cookies);
    if (!session) return ctx.redirect('/login');
    const form = formOf(ctx);
    checkCsrf(form.csrf, session.csrf);
    let to: string | undefined;
    try {
      to = await run(ctx, session, form);
    } catch (err) {
      if (!refused) throw err;
      return refused(ctx, session, refusalOf(err));
    }
    if (to === undefined) return;
    ctx.status = 303;
    ctx.redirect(to);
  };
}

/** The error if it is one a page shows its user (a ProtocolError below 500); anything else is rethrown. */
export function refusalOf(err: unknown): ProtocolError {
  if (!(err instanceof ProtocolError) || err.status >= 500) throw err;
  return err;
}

/** A GET handler for the signed-in user: with no session it redirects to /login. */
export function signedInPage(sessions: CurrentSession, show: (ctx: Context, session: SessionDocument) => Promise<void>): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const session = await sessions.current(ctx.cookies);
    if (!session) return ctx.redirect('/login');
    await show(ctx, session);
  };
}
