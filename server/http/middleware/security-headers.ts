import type { Middleware } from 'koa';

/**
 * Strict headers on every response. Pages are server-rendered with no inline script, so the CSP
 * can forbid scripts outright and allow only same-origin styles and images; frame-ancestors
 * 'none' plus X-Frame-Options stop clickjacking of the login and consent pages.
 */
export function securityHeaders(options: { https: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set({
      'Content-Security-Policy':
        "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
