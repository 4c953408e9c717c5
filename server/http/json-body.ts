import type { Context } from 'koa';
import { unsupportedMediaType } from '../protocol/errors.js';

/**
 * The parsed JSON body of a JSON API call. Anything but application/json is refused with 415
 * before it is looked at: these APIs (client registration, RFC 7591 §3.1; UMA resource
 * registration and permission requests; the sharing rules) take JSON only, and a form or text body
 * is a client's mistake, not a value to coerce.
 */
export function jsonBody(ctx: Context): unknown {
  if (!ctx.is('application/json')) throw unsupportedMediaType('the request body must be application/json');
  return ctx.request.body;
}
