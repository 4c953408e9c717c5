import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { BODY_LIMIT_BYTES, MAX_BODY_DEPTH } from '../../server/http/middleware/request-body.js';
import { killLeftoverServers, launchServer, stopServer } from '../support/server-process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * Request bodies at the edges: every content coding a client may declare, sizes around the limit,
 * bytes that are not in their declared coding, and nesting that recursion would choke on. The
 * answers are the protocol's JSON errors with a 4xx — and the process keeps serving.
 */

type Coding = { name: string; header?: string; encode: (body: Buffer) => Buffer; refused: boolean };

const CODINGS: Coding[] = [
  { name: 'none', encode: (body) => body, refused: false },
  { name: 'identity', header: 'identity', encode: (body) => body, refused: false },
  { name: 'IDENTITY (codings are case-insensitive)', header: 'IDENTITY', encode: (body) => body, refused: false },
  { name: 'gzip', header: 'gzip', encode: (body) => gzipSync(body), refused: true },
  { name: 'deflate', header: 'deflate', encode: (body) => deflateSync(body), refused: true },
  { name: 'br', header: 'br', encode: (body) => brotliCompressSync(body), refused: true },
  { name: 'an unknown coding', header: 'x-snappy', encode: (body) => body, refused: true },
  { name: 'a list (gzip, then br)', header: 'gzip, br', encode: (body) => brotliCompressSync(gzipSync(body)), refused: true },
];

const SIZES = [BODY_LIMIT_BYTES - 1, BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, 70 * 1024];

type Route = { path: string; contentType: string; body: (size: number) => Buffer; accepted: { status: number; error?: string } };

/** Text of exactly `size` bytes: the prefix, padding, the suffix. */
const padded = (prefix: string, size: number, suffix = '') => Buffer.from(prefix + 'a'.repeat(size - prefix.length - suffix.length) + suffix);

const ROUTES: Route[] = [
  {
    path: '/token',
    contentType: 'application/x-www-form-urlencoded',
    body: (size) => padded('grant_type=client_credentials&padding=', size),
    accepted: { status: 401, error: 'invalid_client' },
  },
  {
    path: '/register',
    contentType: 'application/json',
    // Members that are not client metadata are ignored (RFC 7591 §2), so the padding registers a client.
    body: (size) => padded('{"client_name":"padded","grant_types":["client_credentials"],"padding":"', size, '"}'),
    accepted: { status: 201 },
  },
  {
    path: '/introspect',
    contentType: 'application/x-www-form-urlencoded',
    body: (size) => padded('token=abc&padding=', size),
    accepted: { status: 401, error: 'invalid_client' },
  },
];

const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

async function post(url: string, contentType: string, body: Buffer, coding?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...(coding === undefined ? {} : { 'Content-Encoding': coding }) },
    body: new Uint8Array(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function expectOAuthError(reply: { headers: Headers; text: string }, error?: string) {
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  const body = JSON.parse(reply.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  if (error) expect(body.error).toBe(error);
}

describe.each(storeBackends)('request bodies on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  const cases = ROUTES.flatMap((route) => CODINGS.flatMap((coding) => SIZES.map((size) => ({ route, coding, size }))));
  test.each(cases.map((c) => [`${c.route.path}`, c.coding.name, c.size, c] as const))('%s, coding %s, %i bytes', async (_path, _coding, size, { route, coding }) => {
    const reply = await post(`${server.url}${route.path}`, route.contentType, coding.encode(route.body(size)), coding.header);
    if (coding.refused) {
      expect(reply.status).toBe(415);
      expect(reply.headers.get('accept-encoding')).toBe('identity');
      expectOAuthError(reply, 'invalid_request');
    } else if (size > BODY_LIMIT_BYTES) {
      expect(reply.status).toBe(413);
      expectOAuthError(reply, 'request_too_large');
    } else {
      expect(reply.status).toBe(route.accepted.status);
      if (route.accepted.error) expectOAuthError(reply, route.accepted.error);
      else expect(JSON.parse(reply.text)).toMatchObject({ client_name: 'padded', client_id: expect.any(String) });
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test('bytes that are not in their declared coding are refused before anything decodes them', async () => {
    for (const coding of ['gzip', 'deflate', 'br']) {
      const reply = await post(`${server.url}/token`, 'application/x-www-form-urlencoded', Buffer.from('grant_type=x'), coding);
      expect(reply.status).toBe(415);
      expectOAuthError(reply, 'invalid_request');
    }
  });

  test.each(['/register', '/uma/rules', '/uma/resource_set'])('JSON nested 8000 deep at %s is a 400, not a stack overflow', async (route) => {
    for (const body of [nested(8000), '['.repeat(8000) + ']'.repeat(8000)]) {
      const reply = await post(`${server.url}${route}`, 'application/json', Buffer.from(body));
      expect(reply.status).toBe(400);
      expectOAuthError(reply, 'invalid_request');
      expect(reply.text).toContain(`deeper than ${MAX_BODY_DEPTH} levels`);
    }
  });

  test(`JSON is read up to ${MAX_BODY_DEPTH} levels and refused one level deeper`, async () => {
    // The registration request itself is level 1; the ignored member holds the rest.
    const registration = (depth: number) => Buffer.from(`{"client_name":"deep","grant_types":["client_credentials"],"extension":${nested(depth - 2, '{}')}}`);
    expect((await post(`${server.url}/register`, 'application/json', registration(MAX_BODY_DEPTH))).status).toBe(201);
    const deeper = await post(`${server.url}/register`, 'application/json', registration(MAX_BODY_DEPTH + 1));
    expect(deeper.status).toBe(400);
    expectOAuthError(deeper, 'invalid_request');
  });
});

describe('the server process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bodies-'));
  });
  afterEach(killLeftoverServers);
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  test('survives compressed bodies just over the limit (once an unhandled decompression error that killed it)', async () => {
    const running = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    const url = (await running.listening).replace('localhost', '127.0.0.1');
    const killer = Buffer.alloc(70 * 1024, 'a');
    for (const coding of ['br', 'gzip', 'deflate']) {
      for (const route of ['/token', '/introspect']) {
        expect((await post(`${url}${route}`, 'application/x-www-form-urlencoded', killer, coding)).status).toBe(415);
      }
      expect((await post(`${url}/register`, 'application/json', killer, coding)).status).toBe(415);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(running.child.exitCode).toBeNull();
    expect(await stopServer(running)).toBe(0);
    expect(running.output().stderr).not.toMatch(/Z_BUF_ERROR|Unhandled|unhandled error/);
  });
});
