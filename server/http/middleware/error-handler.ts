import type { Middleware } from 'koa';
import { errorFields, type Logger } from '../../logger.js';
import { StoreBusyError } from '../../store/port.js';
import { ProtocolError, serverBusy, type ProtocolErrorCode } from '../../protocol/errors.js';

/** Statuses of errors a client can cause outside the protocol handlers (router, body parser). */
const CLIENT_ERRORS: Record<number, { code: ProtocolErrorCode; description: string }> = {
  400: { code: 'invalid_request', description: 'malformed request body' },
  404: { code: 'not_found', description: 'no such endpoint' },
  405: { code: 'method_not_allowed', description: 'method not allowed' },
  413: { code: 'request_too_large', description: 'request body too large' },
  415: { code: 'unsupported_media_type', description: 'unsupported content type' },
};

/**
 * The one place errors become responses: a ProtocolError (or a client error from the body
 * parser or router) gets its JSON shape and 4xx status, a busy store 503 with Retry-After; anything else is logged with the request
 * id and answered with a generic 500 that reveals nothing.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The router leaves unknown paths (404) and methods (405, or 501 for ones HTTP does not
      // know) with an empty body; they get the JSON shape too, keeping the router's Allow header.
      if (ctx.body === undefined && [404, 405, 501].includes(ctx.status)) throw clientError(ctx.status === 501 ? 405 : ctx.status);
    } catch (err) {
      const protocolError = err instanceof ProtocolError ? err : err instanceof StoreBusyError ? serverBusy() : fromHttpError(err);
      if (protocolError) {
        ctx.status = protocolError.status;
        ctx.set(protocolError.headers);
        ctx.body = protocolError.body;
      } else {
        logger.error('unhandled error', { requestId: ctx.state.requestId, ...errorFields(err) });
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'internal error' };
      }
      ctx.set('Cache-Control', 'no-store');
    }
  };
}

function clientError(status: number): ProtocolError {
  const known = CLIENT_ERRORS[status] ?? CLIENT_ERRORS[400]!;
  return new ProtocolError(status, known.code, known.description);
}

/** Errors from http-errors (body parser, router) carry a `status` and, for client errors, `expose`. */
function fromHttpError(err: unknown): ProtocolError | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status in CLIENT_ERRORS ? clientError(status) : undefined;
}
