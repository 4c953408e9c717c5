import Database from 'better-sqlite3';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DATABASE_FILE, openEmbeddedStore } from '../../server/store/embedded.js';
import { storeBackends } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeBackends)('HTTP foundation on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

  test('liveness and readiness report the store and the active policy bundle', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: backend.name, policy: { digest: server.services.policy.digest } });
    expect(server.services.policy.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  test('both discovery documents come from one builder and name this issuer', async () => {
    const oidc = await (await get('/.well-known/openid-configuration')).json();
    const oauth = await (await get('/.well-known/oauth-authorization-server')).json();
    expect(oidc).toEqual(oauth);
    expect(oidc.issuer).toBe(server.url);
    expect(oidc.jwks_uri).toBe(`${server.url}/jwks`);
  });

  test('the JWKS publishes public keys only, with kid, use and alg', async () => {
    const response = await get('/jwks');
    expect(response.headers.get('content-type')).toContain('application/jwk-set+json');
    const { keys } = await response.json();
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      expect(key).toMatchObject(key.kty === 'RSA' ? { alg: 'RS256', use: 'sig' } : { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(typeof key.kid).toBe('string');
      expect(key.d).toBeUndefined();
      expect(key.p).toBeUndefined();
    }
    const signing = await server.services.keys.signingKey();
    expect(keys.map((k: { kid: string }) => k.kid)).toContain(signing.kid);
  });

  test('every response carries the strict security headers and a request id', async () => {
    const response = await get('/healthz', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('strict-transport-security')).toBeNull();
    const hostile = await get('/healthz', { headers: { 'X-Request-Id': 'bad id\twith junk' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an unknown route is a 404 JSON error', async () => {
    const response = await get('/no/such/thing');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
  });

  test('a wrong method is a 405 JSON error with Allow', async () => {
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const response = await get('/jwks', { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toContain('GET');
      expect((await response.json()).error).toBe('method_not_allowed');
    }
  });

  test('malformed JSON is a 400 JSON error', async () => {
    const response = await get('/healthz', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"unterminated' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'malformed request body' });
  });

  test('an oversized body is a 413 JSON error', async () => {
    for (const [type, body] of [
      ['application/json', JSON.stringify({ pad: 'x'.repeat(200_000) })],
      ['application/x-www-form-urlencoded', `pad=${'x'.repeat(200_000)}`],
    ] as const) {
      const response = await get('/healthz', { method: 'POST', headers: { 'Content-Type': type }, body });
      expect(response.status).toBe(413);
      expect((await response.json()).error).toBe('request_too_large');
    }
  });
});

describe('readiness when the decision log cannot write', () => {
  const embedded = storeBackends.find((b) => b.name === 'embedded')!;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(embedded, { ASSENT_DECISION_SEGMENT_BYTES: '65536' });
  });
  afterAll(() => server.stop());

  test('a failed write makes /readyz answer 503, since no decision can be recorded any more', async () => {
    const registered = await (
      await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'backend', grant_types: ['client_credentials'], scope: 'uma_authorization' }),
      })
    ).json();
    const token = () =>
      fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}` },
        body: 'grant_type=client_credentials',
      });
    expect((await token()).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    // The segment the log rotates into cannot be opened: in its place stands a directory.
    await mkdir(path.join(server.services.config.dataDir, 'decisions', '000000000002.ndjson'));
    let status = 200;
    for (let i = 0; i < 500 && status === 200; i++) status = (await token()).status;
    expect(status).toBe(500);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', store: 'embedded', decisionLog: 'failed' });
  });
});

describe('a store too busy to take a write', () => {
  let server: TestServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-busy-'));
    server = await startTestServer({ name: 'embedded', open: () => openEmbeddedStore(dataDir) });
  });
  afterAll(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('is answered 503 temporarily_unavailable with Retry-After, nothing written, and the retry succeeds', async () => {
    const register = () => fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'busy', grant_types: ['client_credentials'] }) });
    const before = await server.services.store.collection('clients').then((c) => c.count({}));
    // Another connection holds SQLite's write lock, as a checkpoint starting the log over does.
    const other = new Database(path.join(dataDir, 'db', DATABASE_FILE));
    other.exec('BEGIN IMMEDIATE');
    try {
      const refused = await register();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'the server is busy; retry shortly' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await expect(server.services.store.collection('clients').then((c) => c.count({}))).resolves.toBe(before);
    expect((await register()).status).toBe(201);
  });
});
