import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { generateSecret, hashSecret } from '../../server/crypto/secrets.js';
import { ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../server/oauth/grants/token-exchange.js';
import { entrypointNames, type EntrypointInput, type EntrypointName } from '../../server/policy/entrypoints.js';
import { PolicyEngine, type DecisionRecord } from '../../server/policy/engine.js';
import { UMA_TICKET_GRANT } from '../../server/uma/grant.js';
import { ID_TOKEN_FORMAT } from '../../server/uma/requesting-party.js';
import { storedDecisions } from '../support/decisions.js';
import { basicAuth, postForm } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { policySchemas, violations, type EntrypointSchemas } from './policy-schemas.js';

/**
 * The TypeScript input builders held to schemas/policy/: a real server makes one decision of
 * every entrypoint through its endpoints (consent, introspection, access, claims, exchange, registration), and
 * every recorded input and result must be valid. Read from the decision log rather than by calling
 * the builders, so the check holds wherever a builder lives. The `scopes` entrypoint is decided
 * inside `consent` (consent.rego imports it, one recorded decision per step), so its records are
 * the recorded consent inputs with SMART facts, evaluated by the scopes entrypoint.
 */
const APP = 'schema-app';
const UPSTREAM_AUDIENCE = 'schema-app-at-upstream';

/** A minimal OpenID provider on a loopback port: discovery and JWKS, and ID tokens it signs. */
async function upstreamIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server = http.createServer((req, res) => {
    const body = req.url === '/jwks'
      ? { keys: [jwk] }
      : { issuer: origin, authorization_endpoint: `${origin}/authorize`, token_endpoint: `${origin}/token`, jwks_uri: `${origin}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idToken = (key: CryptoKey, claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' }).setIssuer(origin).setAudience(UPSTREAM_AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(key);
  return {
    origin,
    idToken: (claims: Record<string, unknown>) => idToken(privateKey, claims),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('recorded decisions of a real server run against schemas/policy/', () => {
  let upstream: Awaited<ReturnType<typeof upstreamIssuer>>;
  let server: TestServer;
  let records: DecisionRecord[];
  let schemas: Record<EntrypointName, EntrypointSchemas>;

  beforeAll(async () => {
    schemas = await policySchemas();
    upstream = await upstreamIssuer();
    server = await startTestServer(storeBackends[0]!, {
      ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([
        { id: 'idp', type: 'oidc', issuer: upstream.origin, clientId: 'assent-at-upstream', displayName: 'Upstream', allowInsecureRequests: true, claimTokenAudiences: { [UPSTREAM_AUDIENCE]: [APP] } },
      ]),
    });
    const engine = await PolicyEngine.open();
    const recorded = await run(server, upstream);
    const scopes = recorded.filter((r) => r.entrypoint === 'consent' && 'smart' in r.input).map((r) => ({ ...r, entrypoint: 'scopes' as const, result: engine.decide('scopes', r.input as EntrypointInput<'scopes'>).result }));
    records = [...recorded, ...scopes];
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.stop();
  });

  it('has decisions of every entrypoint', () => {
    expect([...new Set(records.map((r) => r.entrypoint))].sort()).toEqual([...entrypointNames].sort());
  });

  it('has only valid inputs and results', () => {
    const invalid = records.flatMap((r) => {
      const found = [...violations(schemas[r.entrypoint].input, r.input), ...violations(schemas[r.entrypoint].output, r.result)];
      return found.length ? [{ entrypoint: r.entrypoint, input: r.input, result: r.result, violations: found }] : [];
    });
    expect(invalid).toEqual([]);
  });

  it.each(entrypointNames)('would notice a %s input or result that breaks its schema', (entrypoint) => {
    const record = records.find((r) => r.entrypoint === entrypoint)!;
    expect(schemas[entrypoint].input({ ...record.input, unexpected: true })).toBe(false);
    expect(schemas[entrypoint].output({ ...record.result, unexpected: true })).toBe(false);
  });
});

/** Drives one decision of each entrypoint through the endpoints; returns what the log recorded. */
async function run(server: TestServer, upstream: Awaited<ReturnType<typeof upstreamIssuer>>): Promise<DecisionRecord[]> {
  const { services, url } = server;
  const owner = (await services.accounts.byEmail('alice@example.org'))!;
  const rsSecret = server.seeded!.clientSecrets.find((c) => c.clientId === 'demo-resource-server')!.secret;
  const rs = basicAuth('demo-resource-server', rsSecret);
  const appSecret = generateSecret();
  await services.clients.create({
    _id: APP,
    metadata: { client_name: 'Schema app', token_endpoint_auth_method: 'client_secret_basic', grant_types: [UMA_TICKET_GRANT, TOKEN_EXCHANGE_GRANT], response_types: [], redirect_uris: [], scope: 'openid email uma_authorization' },
    secretHash: hashSecret(appSecret),
    source: 'seed',
    createdAt: new Date(),
  });
  const app = basicAuth(APP, appSecret);
  await services.sharingRules.add(owner._id, { id: 'rule-dr', effect: 'allow', grantee: { email: 'dr@clinic.example' }, resources: { types: ['MedicationStatement'] }, scopes: ['read'] });

  // consent: the resource server's client_credentials; introspection: of the owner's PAT.
  await postForm(url, '/token', { grant_type: 'client_credentials', scope: 'openid uma_protection' }, { Authorization: rs });
  const pat = (await services.tokenService.issueAccessToken({ clientId: 'demo-resource-server', accountId: owner._id, subject: owner._id, scopes: ['uma_protection'] })).token;
  await postForm(url, '/introspect', { token: pat }, { Authorization: rs });
  // access: the PAT at the permission endpoint (allowed) and at userinfo (refused).
  const ticket = (await (await fetch(`${url}/uma/permission`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${pat}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ resource_id: 'demo-medications', resource_scopes: ['read'] }),
  })).json()) as { ticket: string };
  await fetch(`${url}/userinfo`, { headers: { Authorization: `Bearer ${pat}` } });
  // claims: the uma-ticket grant with a pushed upstream ID token; exchange: that ID token for a token.
  const idToken = await upstream.idToken({ sub: 'dr-1', email: 'dr@clinic.example', email_verified: true });
  await postForm(url, '/token', { grant_type: UMA_TICKET_GRANT, ticket: ticket.ticket, claim_token: idToken, claim_token_format: ID_TOKEN_FORMAT }, { Authorization: app });
  await postForm(url, '/token', { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: idToken, subject_token_type: ID_TOKEN_TYPE, scope: 'uma_authorization' }, { Authorization: app });
  // registration: one client registered at /register, one refused a privileged scope.
  for (const scope of ['uma_protection', 'smart/launch']) {
    await fetch(`${url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_types: ['client_credentials'], scope }) });
  }
  return storedDecisions({ store: services.store, dataDir: services.config.dataDir });
}
