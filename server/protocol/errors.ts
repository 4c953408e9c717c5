/**
 * An error the client caused and should see, in the protocol's shape:
 * `{ "error": code, "error_description": description }` with an HTTP status (RFC 6749 §5.2 and
 * the RFCs that reuse its format). Thrown anywhere below the error middleware.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly status: number,
    readonly code: string,
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
export const notFound = (description = 'no such resource') => new ProtocolError(404, 'not_found', description);
