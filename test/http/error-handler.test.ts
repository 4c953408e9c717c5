import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { ProtocolError } from '../../server/protocol/errors.js';
import { errorHandler } from '../../server/http/middleware/error-handler.js';
import { createLogger } from '../../server/logger.js';

/** The error middleware on its own, with handlers that fail in each way the real ones can. */
describe('error middleware', () => {
  const logged: string[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    const app = new Koa();
    app.silent = true;
    app.use(errorHandler(createLogger('error', (line) => logged.push(line))));
    app.use((ctx) => {
      if (ctx.path === '/protocol') throw new ProtocolError(401, 'invalid_client', 'client authentication failed', { 'WWW-Authenticate': 'Basic' });
      if (ctx.path === '/bug') throw new Error('secret internals at /srv/app.ts:42');
      ctx.body = { ok: true };
    });
    server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test('a ProtocolError becomes its status, JSON body and headers', async () => {
    const response = await fetch(`${url}/protocol`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  test('an unexpected error is logged and answered with a generic 500 that reveals nothing', async () => {
    const response = await fetch(`${url}/bug`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'server_error', error_description: 'internal error' });
    expect(text).not.toContain('secret internals');
    expect(logged.some((line) => line.includes('secret internals'))).toBe(true);
  });
});
