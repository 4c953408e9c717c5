import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';

/** What Node's HTTP parser reports, as the status line the client gets. */
const ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Content Too Large',
};
const MALFORMED = '400 Bad Request';

/**
 * Answers what never becomes a request for the application — malformed HTTP, oversized headers,
 * a request not received within the configured timeouts — with a plain status and no body (the
 * request may have been a HEAD, whose answer must not have one), then closes the connection.
 * Nothing is written into a response already under way.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const responding = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    responding.set(request.socket, response);
    response.once('finish', () => responding.delete(request.socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = (err.code && ANSWERS[err.code]) || MALFORMED;
    logger.info('client error', { code: err.code, status: Number.parseInt(status, 10) });
    if (err.code === 'ECONNRESET' || !socket.writable || responding.get(socket)?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n`, () => socket.destroy());
  });
}
