import net from 'node:net';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The HTTP layer below the application, over raw sockets: clients too slow to send their request,
 * keep-alive, and bytes that are not HTTP. Connection handling does not touch the store, so one
 * store backend is enough here.
 */

const [embedded] = storeBackends;

/** Far above every timeout configured below, far below the defaults (10 s of headers, 30 s of request). */
const BOUND_MS = 8000;

interface Connection {
  socket: net.Socket;
  /** Everything the server sent until it closed the connection; rejects after BOUND_MS. */
  closed: Promise<string>;
  /** The next complete response (status line, headers, Content-Length body) on the connection. */
  response(): Promise<string>;
}

/** Sockets of the current test, destroyed after it so that a failing test cannot hold the server open. */
const opened: net.Socket[] = [];
afterEach(() => opened.splice(0).forEach((socket) => socket.destroy()));

async function connect(url: string): Promise<Connection> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  opened.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let consumed = 0;
  let notify = () => {};
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    notify();
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${BOUND_MS} ms; received ${JSON.stringify(received)}`)), BOUND_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
  const response = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const rest = received.slice(consumed);
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) return false;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
        if (rest.length < end + 4 + length) return false;
        consumed += end + 4 + length;
        resolve(rest.slice(0, end + 4 + length));
        return true;
      };
      if (check()) return;
      notify = () => void check();
      void closed.then(() => reject(new Error(`closed before a response; received ${JSON.stringify(received)}`)), reject);
    });
  return { socket, closed, response };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);

/** A status line, no body, and the connection closed: nothing else was sent. */
function expectPlainAnswer(received: string, status: number) {
  expect(statusOf(received)).toBe(status);
  expect(received).toMatch(/\r\nConnection: close\r\n/i);
  expect(received).toMatch(/\r\nContent-Length: 0\r\n/i);
  expect(received.endsWith('\r\n\r\n')).toBe(true);
}
const healthz = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';

describe('slow clients and keep-alive', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(embedded!, {
      ASSENT_HEADERS_TIMEOUT_MS: '300',
      ASSENT_REQUEST_TIMEOUT_MS: '800',
      ASSENT_KEEPALIVE_TIMEOUT_MS: '1000',
      ASSENT_SOCKET_IDLE_TIMEOUT_MS: '20000',
    });
  });
  afterAll(() => server.stop());

  const expectTimedOut = (received: string) => expectPlainAnswer(received, 408);

  test('a connection that never sends a request gets 408 and is closed', async () => {
    const { closed } = await connect(server.url);
    expectTimedOut(await closed);
  });

  test('incomplete headers get 408 and the connection is closed', async () => {
    const { socket, closed } = await connect(server.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    expectTimedOut(await closed);
  });

  test('headers dripped a byte at a time still run out of time (traffic does not extend the deadline)', async () => {
    const { socket, closed } = await connect(server.url);
    const header = `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(200)}`;
    let open = true;
    void closed.finally(() => (open = false));
    for (const byte of header) {
      if (!open) break;
      socket.write(byte);
      await pause(20);
    }
    expectTimedOut(await closed);
  });

  test('an incomplete body gets 408 and the connection is closed', async () => {
    const { socket, closed } = await connect(server.url);
    socket.write('POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=');
    expectTimedOut(await closed);
  });

  test('a keep-alive client sends several requests on one connection, which is closed once idle for the keep-alive timeout', async () => {
    const connection = await connect(server.url);
    connection.socket.write(healthz);
    const first = await connection.response();
    expect(statusOf(first)).toBe(200);
    expect(first).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    await pause(200);
    connection.socket.write(healthz);
    expect(statusOf(await connection.response())).toBe(200);
    // Idle from here on: the server closes without another response (a 408 status line, say).
    expect((await connection.closed).match(/HTTP\/1\.1 \d{3} /g)).toEqual(['HTTP/1.1 200 ', 'HTTP/1.1 200 ']);
  });

  test('the server still answers ordinary clients afterwards', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('a connection without traffic', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(embedded!, {
      ASSENT_HEADERS_TIMEOUT_MS: '20000',
      ASSENT_REQUEST_TIMEOUT_MS: '20000',
      ASSENT_SOCKET_IDLE_TIMEOUT_MS: '300',
    });
  });
  afterAll(() => server.stop());

  test('is closed after the socket idle timeout, long before the request timeouts', async () => {
    const { socket, closed } = await connect(server.url);
    socket.write('GET /healthz HTTP/1.1\r\n');
    expect(await closed).toBe('');
  });
});

describe('bytes that are not HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(embedded!);
  });
  afterAll(() => server.stop());

  test.each([
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost localhost\r\n\r\n', 400],
    ['a bad chunked body', 'POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['a HEAD request with headers over 16 KiB', `HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s: a plain status without a body, then the connection is closed', async (_name, request, status) => {
    const { socket, closed } = await connect(server.url);
    socket.write(request);
    expectPlainAnswer(await closed, status);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
