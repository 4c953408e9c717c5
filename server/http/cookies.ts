import type { Context } from 'koa';
import type { CookieToSet } from '../store/repositories/browser-bound.js';

/** Sets the cookies a service asked for: httpOnly and SameSite=Lax always (Secure comes from the app on https). */
export function setCookies(ctx: Context, ...cookies: CookieToSet[]): void {
  for (const cookie of cookies) {
    ctx.cookies.set(cookie.name, cookie.value, {
      httpOnly: true,
      sameSite: 'lax',
      path: cookie.path,
      ...(cookie.maxAgeMs !== undefined ? { maxAge: cookie.maxAgeMs } : {}),
      overwrite: true,
    });
  }
}
