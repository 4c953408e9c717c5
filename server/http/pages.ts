import type { Context } from 'koa';
import { timingSafeEqual } from 'node:crypto';
import type { PageName, Views } from '../views/render.js';
import { forgedForm, type ProtocolError } from '../protocol/errors.js';

/** Renders a page that must never be cached (it carries a CSRF token or account data). */
export function renderPage(ctx: Context, views: Views, page: PageName, title: string, data: Record<string, unknown> = {}, status = 200) {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = views.render(page, title, data);
}

/** Turns a ProtocolError into the error page people see when there is nobody to redirect to. */
export function renderErrorPage(ctx: Context, views: Views, err: ProtocolError) {
  renderPage(ctx, views, 'error', 'Something is not right', { message: err.description ?? err.code, code: err.code }, err.status);
}

/** Compares a submitted form's CSRF token with the expected one in constant time. */
export function checkCsrf(submitted: unknown, expected: string) {
  const given = Buffer.from(typeof submitted === 'string' ? submitted : '');
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw forgedForm();
  }
}

/** The submitted form as a plain record (empty when the body was not a form). */
export function formOf(ctx: Context): Record<string, unknown> {
  const body = ctx.request.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
