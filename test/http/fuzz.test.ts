import http from 'node:http';
import fc from 'fast-check';
import { createRouter } from '../../server/app.js';
import { BODY_LIMIT_BYTES } from '../../server/http/middleware/request-body.js';
import { basicAuth, RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { ownerToken, registerRulesClient, signedIn } from '../uma/sharing-support.js';

/**
 * Generated requests at every route the router has (taken from the router, so a new route is
 * fuzzed without touching this file): methods, path parameters, query strings, headers
 * (content type and coding, credentials valid and not, cookies) and bodies (bytes, JSON of any
 * shape and depth, forms). Whatever arrives, the answer is not a 5xx, and the server keeps
 * answering. A fixed seed makes every run send the same requests.
 */

const SEED = 9_2026_12;
const RUNS_PER_STORE = 2500;

interface Route {
  path: string;
  methods: string[];
}

interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Names the handlers look for, so generated forms, queries and JSON reach past "missing parameter". */
const PARAMETERS = [
  'grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'code_verifier', 'refresh_token', 'scope', 'token',
  'token_type_hint', 'ticket', 'rpt', 'pct', 'claim_token', 'claim_token_format', 'subject_token', 'subject_token_type',
  'client_assertion', 'client_assertion_type', 'response_type', 'state', 'nonce', 'prompt', 'max_age', 'resource',
  'code_challenge', 'code_challenge_method', 'login_hint', 'id_token_hint', 'post_logout_redirect_uri', 'csrf', 'email',
  'password', 'decision', 'identity', 'logout', 'rule', 'resource_id', 'party', 'scopes', 'request', 'rel',
];
const JSON_MEMBERS = [
  'client_name', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'scope', 'jwks', 'jwks_uri',
  'contacts', 'logo_uri', 'name', 'type', 'resource_scopes', 'icon_uri', 'description', 'resource_id', 'party', 'resources',
  'scopes', 'email', 'client_id', 'expires_at', 'id',
];
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:uma-ticket', 'urn:ietf:params:oauth:grant-type:token-exchange'];
const COOKIES = ['assent_session', 'assent_login_csrf', 'assent_interaction_0123456789abcdef', 'assent_claims_0123456789abcdef', 'assent_federation_0123456789abcdef'];
const RAW_FRAGMENTS = ['', '%', '%zz', '%00', '%2F', '..', '%2e%2e', '%C0%AF', '%E2%80%AE', '$gt', '{"$ne":null}', '__proto__', 'constructor'];

/** Printable ASCII: what a header value may hold without the HTTP client refusing to send it. */
const headerText = (maxLength = 200) => fc.string({ unit: 'grapheme-ascii', maxLength });
const text = (maxLength = 80) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }), fc.constantFrom(...RAW_FRAGMENTS));

function requests(routes: Route[], known: { values: string[]; authorizations: string[]; cookies: string[] }): fc.Arbitrary<FuzzRequest> {
  const value = fc.oneof(text(), fc.constantFrom(...known.values, ...GRANT_TYPES), fc.integer().map(String), fc.constant('x'.repeat(2000)));
  const pathValue = fc.oneof(fc.constantFrom(...known.values).map(encodeURIComponent), text(40).map(encodeURIComponent), fc.constantFrom(...RAW_FRAGMENTS));
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAMETERS) }, text(20), fc.constantFrom(...PARAMETERS).map((name) => `${name}[x]`), fc.constantFrom('a[b][c][d][e][f][g]', 'a.b.c', 'a[]', '[]', '&', '='));
  const pairs = fc.array(fc.tuple(key, value), { maxLength: 8 });
  const encoded = (entries: [string, string][]) => entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const query = fc.oneof(pairs.map(encoded), fc.array(fc.constantFrom(...RAW_FRAGMENTS, '=', '&', 'a=%', 'a=1&a=2'), { maxLength: 6 }).map((parts) => parts.join('')));

  const json = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.jsonValue({ maxDepth: 3 }),
      value,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...JSON_MEMBERS), text(10)), tie('value'), { maxKeys: 6 }),
    ),
  })).value;
  const nested = (depth: number, open: string, close: string) => Buffer.from(open.repeat(depth) + '1' + close.repeat(depth));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    json.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.dictionary(fc.constantFrom(...JSON_MEMBERS), json, { maxKeys: 8 }).map((v) => Buffer.from(JSON.stringify(v))),
    pairs.map((entries) => Buffer.from(encoded(entries))),
    fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(10_000)).chain((depth) => fc.constantFrom(nested(depth, '{"a":', '}'), nested(depth, '[', ']'), Buffer.from(`${'a[b]'.repeat(depth)}=1`))),
    fc.constantFrom(Buffer.alloc(BODY_LIMIT_BYTES, 'a'), Buffer.alloc(BODY_LIMIT_BYTES + 1, 'a'), Buffer.from('{"__proto__":{"admin":true}}'), Buffer.from('{"a":1,"a":2}'), Buffer.from('\uFEFF{}'), Buffer.from([0xff, 0xfe, 0x00])),
  );

  const optional = (arbitrary: fc.Arbitrary<string>) => fc.option(arbitrary, { nil: undefined, freq: 3 });
  const headers = fc.record({
    'content-type': optional(fc.oneof(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/x-www-form-urlencoded; charset=utf-16', 'application/jwt', 'application/*'), headerText(40))),
    'content-encoding': fc.option(fc.oneof(fc.constantFrom('identity', 'gzip', 'br', 'deflate', 'gzip, br', 'IDENTITY'), headerText(20)), { nil: undefined, freq: 8 }),
    authorization: optional(
      fc.oneof(
        fc.constantFrom(...known.authorizations),
        headerText().map((t) => `Basic ${Buffer.from(t).toString('base64')}`),
        headerText().map((t) => `Bearer ${t}`),
        headerText(),
        fc.constantFrom('Basic', 'Bearer', 'Basic !!!', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'DPoP x', 'Basic ' + Buffer.from(':').toString('base64')),
      ),
    ),
    cookie: optional(fc.oneof(fc.constantFrom(...known.cookies), fc.tuple(fc.constantFrom(...COOKIES), headerText(60)).map(([name, v]) => `${name}=${v.replace(/[;,\s]/g, '')}`), headerText())),
  });

  return fc
    .record({
      route: fc.constantFrom(...routes),
      otherMethod: fc.option(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'), { nil: undefined, freq: 4 }),
      routeMethod: fc.nat(),
      params: fc.array(pathValue, { minLength: 4, maxLength: 4 }),
      query: fc.option(query, { nil: undefined, freq: 2 }),
      headers,
      body: fc.option(body, { nil: undefined, freq: 4 }),
    })
    .map(({ route, otherMethod, routeMethod, params, query, headers: generated, body: payload }) => {
      let next = 0;
      const path = route.path.replace(/:[A-Za-z_]+/g, () => params[next++] ?? 'x');
      return {
        route: route.path,
        method: otherMethod ?? route.methods[routeMethod % route.methods.length]!,
        path: query === undefined ? path : `${path}?${query}`,
        headers: Object.fromEntries(Object.entries(generated).filter((e): e is [string, string] => e[1] !== undefined)),
        body: payload,
      };
    });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

/** Node's client frames a body only when told its length for some methods (HEAD, GET), so it always is. */
function send(base: string, request: FuzzRequest): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ hostname, port, agent, method: request.method, path: request.path, headers: { host: `localhost:${port}`, ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

describe.each(storeBackends)('fuzzing every route on the $name store', (backend) => {
  let server: TestServer;
  let routes: Route[];
  let known: { values: string[]; authorizations: string[]; cookies: string[] };

  beforeAll(async () => {
    server = await startTestServer(backend);
    routes = createRouter(server.services).stack.map((layer) => ({ path: String(layer.path), methods: layer.methods }));
    // Real credentials, so that generated requests also get past authentication into the handlers.
    const secret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;
    const resourceServer = new RawClient(server.url, 'demo-resource-server', 'http://localhost:4100/callback', secret);
    const pat = await resourceServer.tokens(await signedIn(server.url), { scope: 'openid uma_protection offline_access' });
    const rulesToken = await ownerToken(server.url, await registerRulesClient(server.url));
    const session = (await signedIn(server.url)).cookie('assent_session')!;
    known = {
      values: ['demo-app', 'demo-resource-server', secret, pat.access_token, pat.refresh_token ?? 'none', pat.id_token ?? 'none', rulesToken, 'http://localhost:4100/callback', 'acct:alice@example.org', 'alice@example.org'],
      authorizations: [basicAuth('demo-resource-server', secret), `Bearer ${pat.access_token}`, `Bearer ${rulesToken}`, basicAuth('demo-app', '')],
      cookies: [`assent_session=${session}`],
    };
  });
  afterAll(() => server.stop());

  test(`${RUNS_PER_STORE} generated requests over every route: none is answered with a 5xx, and the server answers afterwards`, async () => {
    const fuzzed = new Set<string>();
    await fc.assert(
      fc.asyncProperty(requests(routes, known), async (request) => {
        fuzzed.add(request.route);
        const reply = await send(server.url, request);
        if (reply.status >= 500 || /\bat \S+ \(|node_modules/.test(reply.text)) {
          throw new Error(`${request.method} ${request.path} → ${reply.status} ${reply.text.slice(0, 300)}`);
        }
      }),
      { seed: SEED, numRuns: RUNS_PER_STORE },
    );
    expect([...fuzzed].sort()).toEqual([...new Set(routes.map((route) => route.path))].sort());
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
