import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';

/** What Node's HTTP parser reports, as the status and OAuth error the client gets. */
const ANSWERS: Record<string, { status: number; reason: string; description: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', description: 'the request was not received in time' },
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', description: 'request headers too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, reason: 'Content Too Large', description: 'chunk extensions too large' },
};
const MALFORMED = { status: 400, reason: 'Bad Request', description: 'malformed HTTP request' };

/**
 * Answers what never becomes a request for the application — malformed HTTP, oversized headers,
 * a request not received within the configured timeouts — with a plain HTTP error in the OAuth
 * error format, then closes the connection. Nothing is written into a response already under way.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const responding = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    responding.set(request.socket, response);
    response.once('finish', () => responding.delete(request.socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = (err.code && ANSWERS[err.code]) || MALFORMED;
    logger.info('client error', { code: err.code, status: answer.status });
    if (err.code === 'ECONNRESET' || !socket.writable || responding.get(socket)?.headersSent) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: 'invalid_request', error_description: answer.description });
    const head = [
      `HTTP/1.1 ${answer.status} ${answer.reason}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  });
}
