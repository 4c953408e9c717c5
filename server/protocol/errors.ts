/**
 * The error codes Assent answers with: RFC 6749 §5.2 and §4.1.2.1, RFC 6750 §3, RFC 7591 §3.2.2,
 * RFC 8707 §2, UMA 2.0 Grant §3.3.6 and Federated Authorization §4.2 and §5, and the JSON problems
 * of the management APIs (`not_found`, `conflict`).
 */
export type ProtocolErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_resource_id'
  | 'need_info'
  | 'request_submitted'
  | 'request_denied'
  | 'access_denied'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'request_too_large'
  | 'unsupported_media_type';

/**
 * An error the client caused and should see, in the protocol's shape:
 * `{ "error": code, "error_description": description }` with an HTTP status (RFC 6749 §5.2 and
 * the RFCs that reuse its format). Thrown anywhere below the error middleware; made by the named
 * constructors below, so no call site spells a status.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly status: number,
    readonly code: ProtocolErrorCode,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
    /** Further members of the error body a protocol defines (e.g. UMA's `ticket`, `required_claims`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description ? `${code}: ${description}` : code);
  }

  get body(): Record<string, unknown> {
    return { ...this.extra, error: this.code, ...(this.description ? { error_description: this.description } : {}) };
  }
}

export const invalidRequest = (description: string) => new ProtocolError(400, 'invalid_request', description);
/** A request body of a media type the endpoint does not read. */
export const unsupportedMediaType = (description: string, headers: Record<string, string> = {}) => new ProtocolError(415, 'invalid_request', description, headers);
/** A form without this site's CSRF token. */
export const forgedForm = () => new ProtocolError(403, 'invalid_request', 'the form has expired or did not come from this site; go back and try again');
export const invalidClient = (description: string) => new ProtocolError(400, 'invalid_client', description);
/** RFC 6749 §5.2: client authentication failed; `basic` adds the challenge for a client that tried HTTP Basic. */
export const unauthenticatedClient = (description: string, basic: boolean) =>
  new ProtocolError(401, 'invalid_client', description, basic ? { 'WWW-Authenticate': 'Basic realm="assent"' } : {});
/** Too many failed authentications of one client from one address. */
export const clientThrottled = (retryAfterSeconds: number) =>
  new ProtocolError(429, 'invalid_client', 'too many failed authentications of this client from this address; retry later', { 'Retry-After': String(retryAfterSeconds) });
export const invalidGrant = (description: string) => new ProtocolError(400, 'invalid_grant', description);
export const invalidScope = (description: string) => new ProtocolError(400, 'invalid_scope', description);
export const invalidTarget = (description: string) => new ProtocolError(400, 'invalid_target', description);
export const unauthorizedClient = (description: string) => new ProtocolError(400, 'unauthorized_client', description);
export const unsupportedGrantType = (grantType: string) => new ProtocolError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
export const invalidClientMetadata = (description: string) => new ProtocolError(400, 'invalid_client_metadata', description);
export const invalidRedirectUri = (description: string) => new ProtocolError(400, 'invalid_redirect_uri', description);
export const invalidResourceId = (description: string) => new ProtocolError(400, 'invalid_resource_id', description);

/** RFC 6750 §3: a missing bearer token (a bare challenge) or a bad one. */
export const missingToken = () => new ProtocolError(401, 'invalid_token', 'a bearer token is required', { 'WWW-Authenticate': 'Bearer' });
export const invalidToken = (description = 'the access token is invalid, expired or revoked') =>
  new ProtocolError(401, 'invalid_token', description, { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` });
/** RFC 6750 §3.1: the token is good but lacks `scope`. */
export const insufficientScope = (scope: string, description: string) =>
  new ProtocolError(403, 'insufficient_scope', description, { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` });

/** UMA 2.0 Grant §3.3.6: need_info, request_submitted, request_denied, with the members each defines. */
export const umaError = (code: 'need_info' | 'request_submitted' | 'request_denied', description: string, extra: Record<string, unknown> = {}) =>
  new ProtocolError(403, code, description, {}, extra);

/** An upstream identity provider that could not be reached (RFC 6749 §4.1.2.1's code for a passing fault). */
export const upstreamUnavailable = (description: string) => new ProtocolError(502, 'temporarily_unavailable', description);
/** An upstream identity provider whose metadata or keys cannot be used: the gateway's fault, not this server's, hence 502. */
export const upstreamMisconfigured = (description: string) => new ProtocolError(502, 'server_error', description);
/** The store could not take a write in time. */
export const serverBusy = () => new ProtocolError(503, 'temporarily_unavailable', 'the server is busy; retry shortly', { 'Retry-After': '1' });

/** A signed-in person asks for what their account may not do (an admin page, for one). */
export const accessDenied = (description: string) => new ProtocolError(403, 'access_denied', description);
export const notFound = (description = 'no such resource') => new ProtocolError(404, 'not_found', description);
export const conflict = (description: string) => new ProtocolError(409, 'conflict', description);
