import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { ProtocolError } from '../../protocol/errors.js';

/** Largest JSON or form body read, before any parsing. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Deepest nesting of objects and arrays accepted in a parsed body (`{}` is 1 level). */
export const MAX_BODY_DEPTH = 32;

/**
 * Reads JSON and form bodies into `ctx.request.body`, for every route.
 *
 * Compressed bodies are refused (415) before a byte is read: no OAuth or UMA client compresses
 * requests, and decoding them would let a small request inflate into a large one (and, in the
 * parser's decompression stream, fail after the response has been sent). Nesting deeper than
 * MAX_BODY_DEPTH is refused (400) before any handler, schema check or serialiser recurses into it.
 */
export function requestBody(): Middleware {
  const parse = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: BODY_LIMIT_BYTES, formLimit: BODY_LIMIT_BYTES, encoding: 'utf-8' });
  return async (ctx, next) => {
    refuseContentCodings(ctx);
    await parse(ctx, async () => {
      if (nestedDeeperThan(ctx.request.body, MAX_BODY_DEPTH)) {
        throw new ProtocolError(400, 'invalid_request', `the request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
      }
      await next();
    });
  };
}

/** RFC 9110 §8.4: codings are case-insensitive; `identity` (no coding) is the only one read. */
function refuseContentCodings(ctx: Context) {
  const header = ctx.get('Content-Encoding');
  if (!header) return;
  const codings = header.split(',').map((coding) => coding.trim().toLowerCase());
  if (!codings.every((coding) => coding === 'identity')) {
    // RFC 7694 §3: a 415 for a content coding names the codings that are accepted.
    throw new ProtocolError(415, 'invalid_request', 'compressed request bodies are not accepted (Content-Encoding must be identity)', { 'Accept-Encoding': 'identity' });
  }
  // The parser recognises only the exact token `identity`; without the header it reads the body as is.
  delete ctx.req.headers['content-encoding'];
}

/** Walks with an explicit stack, so the check itself cannot overflow on the bodies it refuses. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}
