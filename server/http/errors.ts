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
  ) {
    super(description ? `${code}: ${description}` : code);
  }

  get body(): Record<string, string> {
    return this.description ? { error: this.code, error_description: this.description } : { error: this.code };
  }
}

export const invalidRequest = (description: string) => new ProtocolError(400, 'invalid_request', description);
export const notFound = (description = 'no such resource') => new ProtocolError(404, 'not_found', description);
