import { missingToken } from './errors.js';

/** The bearer token of an Authorization header (RFC 6750 §2.1); the only accepted way to send one. */
export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  if (!match?.[1]) throw missingToken();
  return match[1];
}
