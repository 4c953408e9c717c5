import type { Context } from 'koa';
import { ProtocolError } from '../protocol/errors.js';

/** RFC 6750 §3 error for a missing or bad bearer token. */
export function invalidToken(description = 'the access token is invalid, expired or revoked') {
  return new ProtocolError(401, 'invalid_token', description, { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` });
}

/** The bearer token of the Authorization header (RFC 6750 §2.1); the only accepted way to send one. */
export function bearerToken(ctx: Context): string {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(ctx.get('Authorization'));
  if (!match?.[1]) throw new ProtocolError(401, 'invalid_token', 'a bearer token is required', { 'WWW-Authenticate': 'Bearer' });
  return match[1];
}
