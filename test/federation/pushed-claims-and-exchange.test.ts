import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { generateSecret, hashSecret } from '../../server/crypto/secrets.js';
import { ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT as EXCHANGE_GRANT } from '../../server/oauth/grants/token-exchange.js';
import { REPO_ROOT } from '../../server/policy/paths.js';
import type { AccessTokenDocument } from '../../server/store/repositories/tokens.js';
import { UMA_TICKET_GRANT as UMA_GRANT } from '../../server/uma/grant.js';
import { requestPermissions } from '../../server/uma/permission-requests.js';
import { ID_TOKEN_FORMAT } from '../../server/uma/requesting-party.js';
import { storedDecisions } from '../support/decisions.js';
import { basicAuth, postForm, type JsonResponse } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { accountId, addResource } from '../uma/sharing-support.js';

/** The clinic app's own client id at the upstream provider: the audience of its users' ID tokens. */
const UPSTREAM_CLIENT_ID = 'clinic-app-at-upstream';
const CLINIC_APP = 'clinic-app';
const OTHER_APP = 'other-app';

interface SigningKey {
  alg: 'ES256' | 'RS256';
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: 'ES256' | 'RS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A tiny OpenID provider: discovery and JWKS for `tenants` (path prefixes) on a loopback port; mints ID tokens. */
class UpstreamIssuer {
  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
    readonly keys: SigningKey[],
  ) {}

  static async start(tenants: string[] = ['']): Promise<UpstreamIssuer> {
    const keys = [await signingKey('ES256', 'es-1'), await signingKey('RS256', 'rs-1')];
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', origin);
      const tenant = tenants.find((t) => url.pathname === `${t}/.well-known/openid-configuration` || url.pathname === `${t}/jwks`);
      if (tenant === undefined) {
        res.writeHead(404).end();
        return;
      }
      const issuer = `${origin}${tenant}`;
      const body = url.pathname.endsWith('/jwks')
        ? { keys: keys.map((k) => k.jwk) }
        : {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['ES256', 'RS256'],
          };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new UpstreamIssuer(server, origin, keys);
  }

  issuer(tenant = '') {
    return `${this.origin}${tenant}`;
  }

  async idToken(claims: Record<string, unknown>, options: { tenant?: string; key?: SigningKey; aud?: string | string[]; expiresIn?: number; iat?: number } = {}) {
    const key = options.key ?? this.keys[0]!;
    const now = options.iat ?? Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.issuer(options.tenant))
      .setAudience(options.aud ?? UPSTREAM_CLIENT_ID)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 300))
      .sign(key.privateKey);
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe.each(storeBackends)('federation: pushed upstream claims and token exchange ($name store)', (backend) => {
  let upstream: UpstreamIssuer;
  let gone: UpstreamIssuer;
  let server: TestServer;
  let client: { id: string; secret: string };
  let otherApp: { id: string; secret: string };
  let ownerId: string;
  let resourceSeq = 0;

  beforeAll(async () => {
    upstream = await UpstreamIssuer.start(['', '/untrusted']);
    gone = await UpstreamIssuer.start();
    // The clinic app signs its users in at the upstream provider as UPSTREAM_CLIENT_ID; only it may
    // present those ID tokens here. The other app may present none.
    const trustingClinic = { claimTokenAudiences: { [UPSTREAM_CLIENT_ID]: [CLINIC_APP] } };
    const provider = (id: string, issuer: string, extra: Record<string, unknown> = {}) => ({
      id,
      type: 'oidc',
      issuer,
      clientId: 'assent-at-upstream',
      displayName: `Upstream ${id}`,
      allowInsecureRequests: true,
      ...extra,
    });
    server = await startTestServer(backend, {
      ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([
        provider('idp', upstream.issuer(), { claimMapping: { npi: 'https://example.org/npi' }, ...trustingClinic }),
        provider('untrusted', upstream.issuer('/untrusted')),
        provider('gone', gone.issuer(), trustingClinic),
      ]),
    });
    // The provider that is down never answered: its keys were never fetched.
    await gone.stop();
    client = await confidentialClient(CLINIC_APP, 'Clinic app');
    otherApp = await confidentialClient(OTHER_APP, 'Other app');
    ownerId = await accountId(server.services);
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.stop();
  });

  /** A confidential client with a known id (as an operator configures one, e.g. from seeds): its id is named in the configuration. */
  async function confidentialClient(id: string, name: string) {
    const secret = generateSecret();
    await server.services.clients.create({
      _id: id,
      metadata: { client_name: name, token_endpoint_auth_method: 'client_secret_basic', grant_types: [UMA_GRANT, EXCHANGE_GRANT], response_types: [], redirect_uris: [], scope: 'openid profile email offline_access uma_authorization' },
      secretHash: hashSecret(secret),
      source: 'seed',
      createdAt: new Date(),
    });
    return { id, secret };
  }

  const token = (form: Record<string, string | undefined>, who = client): Promise<JsonResponse> => postForm(server.url, '/token', form, { Authorization: basicAuth(who.id, who.secret) });

  /** A fresh resource of the demo patient and a permission ticket for it. */
  async function ticket(): Promise<string> {
    const id = `upstream-res-${++resourceSeq}`;
    await addResource(server.services, ownerId, { id, type: 'Observation', scopes: ['read'] });
    return requestPermissions(server.services, { ownerId, resourceServerId: 'demo-resource-server' }, { resource_id: id, resource_scopes: ['read'] });
  }

  async function rule(grantee: Record<string, unknown>, conditions?: Record<string, unknown>) {
    await server.services.sharingRules.add(ownerId, { id: `rule-${++resourceSeq}`, effect: 'allow', grantee: grantee as never, resources: { all: true }, ...(conditions ? { conditions } : {}) });
  }

  /** The recorded decisions of an entrypoint, oldest first. */
  async function decided(entrypoint: string): Promise<{ input: unknown; result: unknown }[]> {
    return storedDecisions({ store: server.services.store, dataDir: server.services.config.dataDir }, entrypoint);
  }

  const push = async (claimToken: string) => token({ grant_type: UMA_GRANT, ticket: await ticket(), claim_token: claimToken, claim_token_format: ID_TOKEN_FORMAT });

  describe('pushed claims (UMA Grant §3.3.1)', () => {
    test('an upstream ID token with a verified email a rule names gets an RPT (ES256 and RS256 keys)', async () => {
      await rule({ email: 'dr.verified@upstream.example' });
      for (const key of upstream.keys) {
        const idToken = await upstream.idToken({ sub: 'dr-1', email: 'Dr.Verified@upstream.example', email_verified: true, name: 'Dr Verified' }, { key });
        const granted = await push(idToken);
        expect(granted.status).toBe(200);
        expect(granted.body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
      }
      const recorded = (await decided('claims')).map((d) => (d.input as { requesting_party?: unknown }).requesting_party);
      expect(recorded).toContainEqual({ iss: upstream.issuer(), sub: 'dr-1', email: 'Dr.Verified@upstream.example', email_verified: true, name: 'Dr Verified' });
    });

    test('a mapped upstream claim can be what a rule matches', async () => {
      await rule({ claim: { name: 'npi', value: '1234567893' } });
      const granted = await push(await upstream.idToken({ sub: 'dr-npi', 'https://example.org/npi': '1234567893' }));
      expect(granted.status).toBe(200);
    });

    test('a rule can require the identity provider: the same verified email from another issuer does not match', async () => {
      await rule({ email: 'dr.google-only@upstream.example' }, { issuers: ['https://accounts.google.com'] });
      const refused = await push(await upstream.idToken({ sub: 'dr-3', email: 'dr.google-only@upstream.example', email_verified: true }));
      expect(refused.status).toBe(403);
      expect(refused.body.access_token).toBeUndefined();

      await rule({ email: 'dr.this-idp@upstream.example' }, { issuers: [upstream.issuer()] });
      const granted = await push(await upstream.idToken({ sub: 'dr-4', email: 'dr.this-idp@upstream.example', email_verified: true }));
      expect(granted.status).toBe(200);
    });

    test('a rule naming an upstream issuer and subject matches that identity only', async () => {
      await rule({ issuer: upstream.issuer(), subject: 'dr-by-subject' });
      expect((await push(await upstream.idToken({ sub: 'dr-by-subject' }))).status).toBe(200);
      expect((await push(await upstream.idToken({ sub: 'dr-by-subject' }, { tenant: '/untrusted' }))).status).toBe(400);
      expect((await push(await upstream.idToken({ sub: 'dr-by-subject-2' }))).status).toBe(403);
    });

    test('an unverified email does not satisfy a rule that needs it verified', async () => {
      await rule({ email: 'dr.unverified@upstream.example' });
      for (const emailVerified of [false, undefined, 'yes']) {
        const refused = await push(await upstream.idToken({ sub: 'dr-2', email: 'dr.unverified@upstream.example', email_verified: emailVerified }));
        expect(refused.status).toBe(403);
        expect(refused.body.access_token).toBeUndefined();
      }
    });

    test.each<[string, () => Promise<string>]>([
      ['signed by a key not in the JWKS', async () => upstream.idToken({ sub: 'x', email: 'dr.verified@upstream.example', email_verified: true }, { key: await signingKey('ES256', 'es-1') })],
      ['issued to another audience', () => upstream.idToken({ sub: 'x', email: 'dr.verified@upstream.example', email_verified: true }, { aud: 'someone-else' })],
      ['expired', () => upstream.idToken({ sub: 'x', email: 'dr.verified@upstream.example', email_verified: true }, { iat: Math.floor(Date.now() / 1000) - 3600, expiresIn: 600 })],
      ['from a provider not trusted for claim tokens', () => upstream.idToken({ sub: 'x', email: 'dr.verified@upstream.example', email_verified: true }, { tenant: '/untrusted' })],
      ['from a provider that is down', () => gone.idToken({ sub: 'x', email: 'dr.verified@upstream.example', email_verified: true })],
      ['from an issuer nobody configured', async () => (await upstream.idToken({ sub: 'x' }, { tenant: '/other' }))],
      ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: upstream.issuer(), sub: 'x', aud: UPSTREAM_CLIENT_ID, exp: 4e9, iat: 1 })).toString('base64url')}.`],
      ['not a JWT', async () => 'garbage'],
    ])('a token %s is invalid_grant', async (_name, make) => {
      const refused = await push(await make());
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_grant');
    });

    test('another app cannot push an ID token issued to the clinic app', async () => {
      await rule({ email: 'dr.other-app@upstream.example' });
      const idToken = await upstream.idToken({ sub: 'dr-5', email: 'dr.other-app@upstream.example', email_verified: true });
      const refused = await token({ grant_type: UMA_GRANT, ticket: await ticket(), claim_token: idToken, claim_token_format: ID_TOKEN_FORMAT }, otherApp);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/not accepted from this client/) });
      expect((await push(idToken)).status).toBe(200);
    });

    test('the owner, identified by an upstream identity linked to her account, gets her own resource without any rule; the same identity unlinked does not', async () => {
      const unlinked = await push(await upstream.idToken({ sub: 'alice-own', email: 'alice.own@upstream.example', email_verified: true }));
      expect({ status: unlinked.status, error: unlinked.body.error }).toEqual({ status: 403, error: 'request_submitted' });

      await server.services.identities.link({ accountId: ownerId, providerId: 'idp', issuer: upstream.issuer(), subject: 'alice-own', email: 'alice.own@upstream.example' });
      const granted = await push(await upstream.idToken({ sub: 'alice-own', email: 'alice.own@upstream.example', email_verified: true }));
      expect(granted.status).toBe(200);
      const last = (await decided('claims')).at(-1)!;
      expect(last.input).toMatchObject({ requesting_party: { iss: upstream.issuer(), sub: 'alice-own' }, requesting_account: { sub: ownerId } });
      expect(last.result).toMatchObject({ outcome: 'grant', because: ['owner'] });
    });

    test('the provider that is down is named in the error', async () => {
      const refused = await push(await gone.idToken({ sub: 'x' }));
      expect(refused.body.error_description).toMatch(/could not be reached/);
    });
  });

  describe('token exchange (RFC 8693)', () => {
    const exchange = (subjectToken: string, extra: Record<string, string | undefined> = {}) =>
      token({ grant_type: EXCHANGE_GRANT, subject_token: subjectToken, subject_token_type: ID_TOKEN_TYPE, ...extra });

    const accessTokenCount = async () => (await server.services.store.collection<AccessTokenDocument>('access_tokens')).count({ clientId: client.id });

    test('discovery lists the grant', async () => {
      const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
      expect(metadata.grant_types_supported).toContain(EXCHANGE_GRANT);
    });

    test('a linked identity gets user scopes only as far as its holder consented to this client before', async () => {
      await server.services.identities.link({ accountId: ownerId, providerId: 'idp', issuer: upstream.issuer(), subject: 'alice-upstream', email: 'alice@upstream.example' });
      const idToken = await upstream.idToken({ sub: 'alice-upstream', email: 'alice@upstream.example', email_verified: true });
      const unconsented = await exchange(idToken, { scope: 'openid email uma_authorization' });
      expect(unconsented.status).toBe(200);
      expect(unconsented.body.scope).toBe('uma_authorization');
      expect((await decided('exchange')).at(-1)!.result).toMatchObject({ denied: [{ scope: 'email', reason: 'not_consented' }, { scope: 'openid', reason: 'not_consented' }] });

      // Alice once allowed the clinic app openid and email at the consent page.
      await server.services.grants.remember(ownerId, client.id, ['email', 'openid']);
      const response = await exchange(await upstream.idToken({ sub: 'alice-upstream', email: 'alice@upstream.example', email_verified: true }), {
        scope: 'openid email offline_access uma_authorization',
        resource: 'https://fhir.example.org',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.any(String),
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: expect.any(Number),
        scope: 'email openid uma_authorization',
      });
      const claims = decodeJwt(response.body.access_token as string);
      expect(claims).toMatchObject({ iss: server.url, sub: ownerId, client_id: client.id, aud: 'https://fhir.example.org', scope: 'email openid uma_authorization' });
      // The token belongs to that consent: revoking the app on the account page ends it.
      expect(await server.services.tokens.accessTokens.byJti(claims.jti!)).toMatchObject({ accountId: ownerId, grantId: `${ownerId}|${client.id}` });

      const last = (await decided('exchange')).at(-1)!;
      expect(last.result).toEqual({ granted: ['email', 'openid', 'uma_authorization'], denied: [{ scope: 'offline_access', reason: 'never_exchanged' }] });
      const ajv = new Ajv2020({ strict: true, allErrors: true });
      formats.default(ajv);
      const schema = async (name: string) => ajv.compile(JSON.parse(await readFile(`${REPO_ROOT}schemas/policy/exchange.${name}.schema.json`, 'utf8')));
      expect((await schema('input'))(last.input)).toBe(true);
      expect((await schema('output'))(last.result)).toBe(true);
    });

    test('the exchanged token works at userinfo for the linked account', async () => {
      await server.services.identities.link({ accountId: ownerId, providerId: 'idp', issuer: upstream.issuer(), subject: 'alice-2', email: 'alice@upstream.example' }).catch(() => undefined);
      const response = await exchange(await upstream.idToken({ sub: 'alice-2' }, { key: upstream.keys[1]! }), { scope: 'openid email' });
      expect(response.status).toBe(200);
      expect(response.body.scope).toBe('email openid');
      const userinfo = await fetch(`${server.url}/userinfo`, { headers: { Authorization: `Bearer ${response.body.access_token as string}` } });
      expect(userinfo.status).toBe(200);
      expect(await userinfo.json()).toMatchObject({ sub: ownerId, email: 'alice@example.org' });
    });

    test('an identity linked to a disabled account is refused as the subject', async () => {
      await server.services.identities.link({ accountId: ownerId, providerId: 'idp', issuer: upstream.issuer(), subject: 'alice-3', email: 'alice@upstream.example' });
      await server.services.accounts.change(ownerId, { disabled: true });
      try {
        const response = await exchange(await upstream.idToken({ sub: 'alice-3' }), { scope: 'openid email' });
        expect(response).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('no longer exists or is disabled') } });
      } finally {
        await server.services.accounts.change(ownerId, { disabled: false });
      }
    });

    test('an unlinked identity gets only scopes that need no account; asking only for user scopes is invalid_scope', async () => {
      const idToken = await upstream.idToken({ sub: 'stranger', email: 'stranger@upstream.example', email_verified: true });
      const partial = await exchange(idToken, { scope: 'openid email uma_authorization' });
      expect(partial.status).toBe(200);
      expect(partial.body.scope).toBe('uma_authorization');
      expect(decodeJwt(partial.body.access_token as string).sub).toBe(client.id);

      const before = await accessTokenCount();
      const refused = await exchange(idToken, { scope: 'openid email' });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_scope');
      expect(await accessTokenCount()).toBe(before);
    });

    test.each<[string, () => Promise<Record<string, string | undefined>>, number, string]>([
      ['no subject_token', async () => ({ subject_token: undefined }), 400, 'invalid_request'],
      ['a wrong subject_token_type', async () => ({ subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_request'],
      ['a refresh token requested', async () => ({ requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 400, 'invalid_request'],
      ['an actor token', async () => ({ actor_token: 'x', actor_token_type: ID_TOKEN_TYPE }), 400, 'invalid_request'],
      ['a relative resource', async () => ({ resource: '/fhir' }), 400, 'invalid_target'],
      ['an audience that is a bare name (e.g. another client id)', async () => ({ audience: 'demo-resource-server' }), 400, 'invalid_target'],
      ['a token whose azp is another app', async () => ({ subject_token: await upstream.idToken({ sub: 'alice-upstream', azp: 'another-app-at-upstream' }) }), 400, 'invalid_request'],
      ['a token of an untrusted provider', async () => ({ subject_token: await upstream.idToken({ sub: 'alice-upstream' }, { tenant: '/untrusted' }) }), 400, 'invalid_request'],
      ['an expired token', async () => ({ subject_token: await upstream.idToken({ sub: 'alice-upstream' }, { iat: 1000, expiresIn: 60 }) }), 400, 'invalid_request'],
      ['a token for another audience', async () => ({ subject_token: await upstream.idToken({ sub: 'alice-upstream' }, { aud: 'other' }) }), 400, 'invalid_request'],
      ['a token from a provider that is down', async () => ({ subject_token: await gone.idToken({ sub: 'alice-upstream' }) }), 400, 'invalid_request'],
      ['a token that is no JWT', async () => ({ subject_token: 'not.a.jwt' }), 400, 'invalid_request'],
      ['an unknown scope only', async () => ({ scope: 'launch/patient' }), 400, 'invalid_scope'],
    ])('%s is refused and nothing is issued', async (_name, change, status, error) => {
      const valid = await upstream.idToken({ sub: 'alice-upstream' });
      const before = await accessTokenCount();
      const refused = await exchange(valid, await change());
      expect(refused.status).toBe(status);
      expect(refused.body.error).toBe(error);
      expect(await accessTokenCount()).toBe(before);
    });

    test('a client not registered for the grant, or with a wrong secret, is refused', async () => {
      const valid = await upstream.idToken({ sub: 'alice-upstream' });
      const wrongSecret = await token({ grant_type: EXCHANGE_GRANT, subject_token: valid, subject_token_type: ID_TOKEN_TYPE }, { id: client.id, secret: 'nope' });
      expect(wrongSecret.status).toBe(401);
      const response = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'Other', grant_types: ['client_credentials'], response_types: [], scope: 'uma_authorization' }),
      });
      const other = (await response.json()) as { client_id: string; client_secret: string };
      const unregistered = await token({ grant_type: EXCHANGE_GRANT, subject_token: valid, subject_token_type: ID_TOKEN_TYPE }, { id: other.client_id, secret: other.client_secret });
      expect(unregistered.status).toBe(400);
      expect(unregistered.body.error).toBe('unauthorized_client');
    });

    test('another app cannot exchange an ID token issued to the clinic app', async () => {
      const refused = await token({ grant_type: EXCHANGE_GRANT, subject_token: await upstream.idToken({ sub: 'alice-upstream' }), subject_token_type: ID_TOKEN_TYPE }, otherApp);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/not accepted from this client/) });
    });
  });
});
