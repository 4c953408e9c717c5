import type { Context, Middleware } from 'koa';

/** Endpoints any web page may read: discovery documents and the public keys. */
const PUBLIC = (path: string) => path.startsWith('/.well-known/') || path === '/jwks';

/** Endpoints a browser app calls itself, and the methods each answers. */
const CLIENT_ENDPOINTS: Record<string, string> = { '/token': 'POST', '/revoke': 'POST', '/userinfo': 'GET, POST' };

/** Request headers a browser app may send: a bearer token and a form or JSON body. */
const ALLOWED_HEADERS = 'Authorization, Content-Type';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export interface CorsDeps {
  /** Whether a registered client redirects to this origin. */
  isClientOrigin(origin: string): Promise<boolean>;
}

/**
 * CORS (Fetch standard §3.2) for browser apps. Discovery and JWKS: any origin. The token,
 * revocation and userinfo endpoints: the origins registered clients redirect to — a preflight
 * carries no body, so it cannot say which client is asking; the client is authenticated by the
 * request itself, and CORS only lets its page read the answer. Credentials are never allowed
 * (these endpoints take no cookies), and every other path gets no CORS headers at all.
 */
export function cors(deps: CorsDeps): Middleware {
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    const methods = PUBLIC(ctx.path) ? 'GET' : CLIENT_ENDPOINTS[ctx.path];
    if (!origin || !methods) return next();
    const client = !PUBLIC(ctx.path);
    if (client) ctx.vary('Origin');
    if (client && !(await deps.isClientOrigin(origin))) return next();
    ctx.set({ 'Access-Control-Allow-Origin': client ? origin : '*', 'Cross-Origin-Resource-Policy': 'cross-origin' });
    if (isPreflight(ctx)) {
      ctx.set({ 'Access-Control-Allow-Methods': methods, 'Access-Control-Allow-Headers': ALLOWED_HEADERS, 'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS });
      ctx.status = 204;
      return;
    }
    if (client) ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
    await next();
  };
}

function isPreflight(ctx: Context) {
  return ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
}
