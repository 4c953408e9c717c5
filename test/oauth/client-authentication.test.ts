import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { hashSecret } from '../../server/crypto/secrets.js';
import { ProtocolError } from '../../server/protocol/errors.js';
import {
  ASSERTION_ALGORITHMS,
  authenticateClient,
  CLIENT_AUTH_THROTTLE,
  clientAuthFailureCounters,
  ClientKeySets,
  JWT_BEARER_ASSERTION,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../../server/oauth/clients/authenticate.js';
import type { Store } from '../../server/store/port.js';
import { Clients, type ClientMetadata } from '../../server/store/repositories/clients.js';
import { disposeStore, storeBackends } from '../support/stores.js';

const ISSUER = 'https://as.example';
const SECRET = 'the-client-secret-with-enough-entropy-0123456789';
const REAL_CLIENT_ADDRESS = '192.0.2.10';
const ATTACKER_ADDRESS = '198.51.100.66';

interface Signer {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  alg: string;
}

async function signer(alg: string, kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, publicKey, alg, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function expectRefusal(promise: Promise<unknown>, status: number, code: string, description?: RegExp): Promise<ProtocolError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  const refusal = error as ProtocolError;
  expect({ status: refusal.status, code: refusal.code }).toEqual({ status, code });
  if (description) expect(refusal.description).toMatch(description);
  return refusal;
}

describe.each(storeBackends)('client authentication on the $name store', (backend) => {
  let store: Store;
  let clients: Clients;
  let deps: ClientAuthenticationDeps;
  let ecKey: Signer;
  let rsaKey: Signer;
  let jwksServer: http.Server;

  /** From the real client's address unless the request names another. */
  const authenticate = (request: Omit<ClientAuthenticationRequest, 'address'> & { address?: string }, now?: Date) =>
    authenticateClient({ address: REAL_CLIENT_ADDRESS, ...request }, now ? { ...deps, now: () => now } : deps);

  async function register(clientId: string, metadata: Partial<ClientMetadata>, secret?: string) {
    await clients.create({
      _id: clientId,
      metadata: { redirect_uris: [], grant_types: ['client_credentials'], response_types: [], scope: 'openid', token_endpoint_auth_method: 'client_secret_basic', ...metadata },
      ...(secret ? { secretHash: hashSecret(secret) } : {}),
      source: 'registration',
      createdAt: new Date(),
    });
  }

  beforeAll(async () => {
    store = await backend.open();
    clients = await Clients.open(store);
    deps = {
      clients,
      failures: await clientAuthFailureCounters(store),
      keySets: new ClientKeySets(),
      issuer: ISSUER,
    };
    [ecKey, rsaKey] = await Promise.all([signer('ES256', 'ec-1'), signer('RS256', 'rsa-1')]);
    jwksServer = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [rsaKey.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

    await register('basic client:1', { token_endpoint_auth_method: 'client_secret_basic' }, SECRET);
    await register('post-client', { token_endpoint_auth_method: 'client_secret_post' }, SECRET);
    await register('public-client', { token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
    await register('jwt-client', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ecKey.publicJwk] } });
    await register('remote-jwt-client', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri });
    await register('pinned-client', {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [ecKey.publicJwk, rsaKey.publicJwk] },
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer.close(resolve));
    await disposeStore(store);
  });

  interface AssertionOptions {
    key?: Signer;
    iss?: string;
    sub?: string;
    aud?: string | string[];
    /** Seconds from now. */
    exp?: number;
    jti?: string | null;
    jku?: string;
  }

  async function assertion(clientId: string, options: AssertionOptions = {}) {
    const key = options.key ?? ecKey;
    const now = Math.floor(Date.now() / 1000);
    const jti = options.jti === undefined ? randomUUID() : options.jti;
    return new SignJWT(jti === null ? {} : { jti })
      .setProtectedHeader({ alg: key.alg, kid: key.publicJwk.kid!, ...(options.jku ? { jku: options.jku } : {}) })
      .setIssuer(options.iss ?? clientId)
      .setSubject(options.sub ?? clientId)
      .setAudience(options.aud ?? `${ISSUER}/token`)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.exp ?? 60))
      .sign(key.privateKey);
  }

  const assertionBody = (clientAssertion: string, extra: Record<string, unknown> = {}) => ({
    body: { client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: clientAssertion, ...extra },
    address: REAL_CLIENT_ADDRESS,
  });

  describe('each method, used as registered, authenticates its client', () => {
    test('client_secret_basic, form-urlencoded inside the header (RFC 6749 §2.3.1)', async () => {
      const client = await authenticate({ authorization: basic('basic+client%3A1', SECRET), body: { client_id: 'basic client:1' } });
      expect(client._id).toBe('basic client:1');
    });

    test('client_secret_post', async () => {
      expect((await authenticate({ body: { client_id: 'post-client', client_secret: SECRET } }))._id).toBe('post-client');
    });

    test('none: a public client names itself and presents no secret', async () => {
      expect((await authenticate({ body: { client_id: 'public-client' } }))._id).toBe('public-client');
    });

    test('private_key_jwt with registered jwks, audience the token endpoint, the issuer, or an array holding one', async () => {
      for (const aud of [`${ISSUER}/token`, ISSUER, ['https://elsewhere.example', ISSUER]]) {
        const client = await authenticate(assertionBody(await assertion('jwt-client', { aud }), { client_id: 'jwt-client' }));
        expect(client._id).toBe('jwt-client');
      }
    });

    test('private_key_jwt with each advertised algorithm', async () => {
      for (const alg of ASSERTION_ALGORITHMS) {
        const key = await signer(alg, `${alg}-key`);
        await register(`alg-${alg}`, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
        expect((await authenticate(assertionBody(await assertion(`alg-${alg}`, { key }))))._id).toBe(`alg-${alg}`);
      }
    });

    test('private_key_jwt with keys fetched from jwks_uri', async () => {
      const client = await authenticate(assertionBody(await assertion('remote-jwt-client', { key: rsaKey })));
      expect(client._id).toBe('remote-jwt-client');
    });
  });

  describe('secrets and methods', () => {
    test('a wrong secret is invalid_client; with Basic the answer challenges for Basic', async () => {
      const viaBasic = await expectRefusal(authenticate({ authorization: basic('post-client', 'wrong'), body: {} }), 401, 'invalid_client');
      expect(viaBasic.headers['WWW-Authenticate']).toBe('Basic realm="assent"');
      const refusal = await expectRefusal(authenticate({ authorization: basic('basic+client%3A1', 'wrong'), body: {} }), 401, 'invalid_client');
      expect(refusal.headers['WWW-Authenticate']).toBe('Basic realm="assent"');
      const viaPost = await expectRefusal(authenticate({ body: { client_id: 'post-client', client_secret: 'wrong' } }), 401, 'invalid_client');
      expect(viaPost.headers['WWW-Authenticate']).toBeUndefined();
    });

    test('a method other than the registered one is refused, even with the right secret', async () => {
      await expectRefusal(authenticate({ body: { client_id: 'basic client:1', client_secret: SECRET } }), 401, 'invalid_client', /registered for client_secret_basic/);
      await expectRefusal(authenticate({ authorization: basic('post-client', SECRET), body: {} }), 401, 'invalid_client', /client_secret_post/);
      await expectRefusal(authenticate({ body: { client_id: 'post-client' } }), 401, 'invalid_client', /not none/);
      await expectRefusal(authenticate({ body: { client_id: 'jwt-client' } }), 401, 'invalid_client');
      await expectRefusal(authenticate({ body: { client_id: 'public-client', client_secret: SECRET } }), 401, 'invalid_client');
    });

    test('two methods at once are invalid_request', async () => {
      await expectRefusal(authenticate({ authorization: basic('post-client', SECRET), body: { client_secret: SECRET } }), 400, 'invalid_request');
      const jwt = await assertion('jwt-client');
      await expectRefusal(authenticate({ body: { client_id: 'post-client', client_secret: SECRET, client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: jwt } }), 400, 'invalid_request');
      await expectRefusal(authenticate({ authorization: basic('jwt-client', SECRET), ...assertionBody(jwt) }), 400, 'invalid_request');
    });

    test('a client_id beside Basic or an assertion must name the same client', async () => {
      await expectRefusal(authenticate({ authorization: basic('post-client', SECRET), body: { client_id: 'public-client' } }), 400, 'invalid_request');
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client'), { client_id: 'public-client' })), 400, 'invalid_request');
    });

    test('repeated parameters are invalid_request', async () => {
      await expectRefusal(authenticate({ body: { client_id: ['post-client', 'post-client'], client_secret: SECRET } }), 400, 'invalid_request');
    });

    test('no credentials, an unknown client and a malformed Basic header are invalid_client', async () => {
      await expectRefusal(authenticate({ body: {} }), 401, 'invalid_client', /required/);
      await expectRefusal(authenticate({ body: { client_id: 'nobody', client_secret: SECRET } }), 401, 'invalid_client', /unknown client/);
      for (const authorization of ['Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Bearer abc', 'Basic ' + Buffer.from('%E0%A4%A:x').toString('base64')]) {
        const refusal = await expectRefusal(authenticate({ authorization, body: {} }), 401, 'invalid_client');
        expect(refusal.headers['WWW-Authenticate']).toBe('Basic realm="assent"');
      }
    });
  });

  describe('private_key_jwt assertions', () => {
    test('an assertion is single use: the same jti twice is a replay', async () => {
      const jti = randomUUID();
      await authenticate(assertionBody(await assertion('jwt-client', { jti })));
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { jti }))), 401, 'invalid_client', /already used/);
      // Another client may use the same jti value: replay is per client.
      await authenticate(assertionBody(await assertion('pinned-client', { jti })));
    });

    test('a replay is caught by another process sharing the store', async () => {
      const jwt = await assertion('jwt-client');
      await authenticate(assertionBody(jwt));
      const otherProcess = { ...deps, clients: await Clients.open(store), keySets: new ClientKeySets() };
      await expectRefusal(authenticateClient(assertionBody(jwt), otherProcess), 401, 'invalid_client', /already used/);
    });

    test('alg none is refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      const encode = (value: object) => base64url.encode(JSON.stringify(value));
      const unsigned = `${encode({ alg: 'none' })}.${encode({ iss: 'jwt-client', sub: 'jwt-client', aud: ISSUER, exp: now + 60, jti: randomUUID() })}.`;
      await expectRefusal(authenticate(assertionBody(unsigned)), 401, 'invalid_client', /algorithm is not allowed/);
    });

    test('HS256 keyed with the registered public key bytes is refused', async () => {
      const pem = await exportSPKI(rsaKey.publicKey);
      const forged = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .setIssuer('remote-jwt-client')
        .setSubject('remote-jwt-client')
        .setAudience(ISSUER)
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(pem));
      await expectRefusal(authenticate(assertionBody(forged)), 401, 'invalid_client', /algorithm is not allowed/);
    });

    test('an assertion signed with an unregistered key is refused', async () => {
      const stranger = await signer('ES256', 'ec-1');
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { key: stranger }))), 401, 'invalid_client', /signature/);
    });

    test('a registered signing algorithm pins the assertion algorithm', async () => {
      await authenticate(assertionBody(await assertion('pinned-client')));
      await expectRefusal(authenticate(assertionBody(await assertion('pinned-client', { key: rsaKey }))), 401, 'invalid_client', /algorithm/);
    });

    test('an expired assertion is refused', async () => {
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { exp: -120 }))), 401, 'invalid_client', /expired/);
    });

    test('an assertion valid for more than five minutes is refused', async () => {
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { exp: 3600 }))), 401, 'invalid_client', /at most 300 seconds/);
      await authenticate(assertionBody(await assertion('jwt-client', { exp: 290 })));
    });

    test('an audience other than this issuer or its token endpoint is refused', async () => {
      for (const aud of ['https://elsewhere.example/token', `${ISSUER}/introspect`, [`${ISSUER}/other`]]) {
        await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { aud }))), 401, 'invalid_client', /aud/);
      }
    });

    test('iss and sub must both be the client', async () => {
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { iss: 'pinned-client' }))), 401, 'invalid_client', /iss/);
      // sub names the client whose keys are used; a sub that is not the issuing client fails its check.
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { sub: 'pinned-client' }))), 401, 'invalid_client', /iss/);
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { sub: 'nobody' }))), 401, 'invalid_client', /unknown client/);
    });

    test('a jku header other than the registered jwks_uri is refused', async () => {
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { jku: 'https://attacker.example/jwks' }))), 401, 'invalid_client', /jku/);
    });

    test('jti is required', async () => {
      await expectRefusal(authenticate(assertionBody(await assertion('jwt-client', { jti: null }))), 401, 'invalid_client', /jti/);
    });

    test('the assertion type must be jwt-bearer and the assertion a JWT', async () => {
      const jwt = await assertion('jwt-client');
      await expectRefusal(authenticate({ body: { client_assertion_type: 'urn:example:saml', client_assertion: jwt } }), 401, 'invalid_client', /client_assertion_type/);
      await expectRefusal(authenticate({ body: { client_assertion_type: JWT_BEARER_ASSERTION } }), 401, 'invalid_client', /missing/);
      await expectRefusal(authenticate(assertionBody('not.a.jwt')), 401, 'invalid_client', /not a JWT/);
    });
  });

  describe('failure throttling', () => {
    const { freeAttempts, underAttack } = CLIENT_AUTH_THROTTLE;
    const attempt = (clientId: string, secret: string, address: string, now?: Date) => authenticate({ body: { client_id: clientId, client_secret: secret }, address }, now);

    test('past the free attempts an address is throttled for that client, even with the right secret; the real client at another address is not', async () => {
      await register('targeted', { token_endpoint_auth_method: 'client_secret_post' }, SECRET);
      for (let i = 0; i < freeAttempts - 1; i++) await expectRefusal(attempt('targeted', 'wrong', ATTACKER_ADDRESS), 401, 'invalid_client');
      await attempt('targeted', SECRET, ATTACKER_ADDRESS);
      await expectRefusal(attempt('targeted', 'wrong', ATTACKER_ADDRESS), 401, 'invalid_client');

      const throttled = await expectRefusal(attempt('targeted', SECRET, ATTACKER_ADDRESS), 429, 'invalid_client', /too many failed/);
      expect(Number(throttled.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
      // The real client, from its own address, gets in at once; so do other clients from the attacker's address.
      expect((await attempt('targeted', SECRET, REAL_CLIENT_ADDRESS))._id).toBe('targeted');
      expect((await attempt('post-client', SECRET, ATTACKER_ADDRESS))._id).toBe('post-client');

      const later = new Date(Date.now() + 2_000);
      await attempt('targeted', SECRET, ATTACKER_ADDRESS, later);
      // Each further failure doubles the wait.
      await expectRefusal(attempt('targeted', 'wrong', ATTACKER_ADDRESS, later), 401, 'invalid_client');
      const again = await expectRefusal(attempt('targeted', SECRET, ATTACKER_ADDRESS, later), 429, 'invalid_client');
      expect(Number(again.headers['Retry-After'])).toBe(2);
    });

    test('an IPv6 attacker is throttled by its /64, an IPv4-mapped address as the IPv4 address', async () => {
      await register('v6-targeted', { token_endpoint_auth_method: 'client_secret_post' }, SECRET);
      for (let i = 0; i < freeAttempts; i++) await expectRefusal(attempt('v6-targeted', 'wrong', `2001:db8:1:2::${(i + 1).toString(16)}`), 401, 'invalid_client');
      await expectRefusal(attempt('v6-targeted', SECRET, '2001:db8:1:2:ffff::99'), 429, 'invalid_client');
      expect((await attempt('v6-targeted', SECRET, '2001:db8:1:3::1'))._id).toBe('v6-targeted');

      await register('v4-targeted', { token_endpoint_auth_method: 'client_secret_post' }, SECRET);
      for (let i = 0; i < freeAttempts; i++) await expectRefusal(attempt('v4-targeted', 'wrong', `::ffff:${ATTACKER_ADDRESS}`), 401, 'invalid_client');
      await expectRefusal(attempt('v4-targeted', SECRET, ATTACKER_ADDRESS), 429, 'invalid_client');
    });

    test('the backstop: under a distributed attack every address is throttled after its first failure; a correct secret from an address that has not failed is never refused', async () => {
      await register('besieged', { token_endpoint_auth_method: 'client_secret_basic' }, SECRET);
      const addressOf = (i: number) => `203.0.113.${i}`;
      // Just below the backstop, spread over many addresses, each far below its own free attempts.
      for (let i = 0; i < underAttack.clientFailures - 1; i++) {
        await expectRefusal(authenticate({ authorization: basic('besieged', `guess-${i}`), body: {}, address: `10.${Math.floor(i / 250)}.${i % 250}.1` }), 401, 'invalid_client');
      }
      // This failure brings the client to the backstop; the address that made it is slowed at once.
      await expectRefusal(attempt('besieged', 'wrong', addressOf(1)), 401, 'invalid_client');
      await expectRefusal(attempt('besieged', SECRET, addressOf(1)), 429, 'invalid_client');
      // Every address still has one free failure, and then waits from the backstop's first delay on.
      await expectRefusal(attempt('besieged', 'wrong', addressOf(2)), 401, 'invalid_client');
      const slowed = await expectRefusal(authenticate({ authorization: basic('besieged', SECRET), body: {}, address: addressOf(2) }), 429, 'invalid_client');
      expect(Number(slowed.headers['Retry-After'])).toBe(underAttack.firstDelaySeconds);
      // Fresh addresses fail once each and are slowed likewise.
      await expectRefusal(attempt('besieged', 'wrong', addressOf(3)), 401, 'invalid_client');
      await expectRefusal(attempt('besieged', 'wrong', addressOf(3)), 429, 'invalid_client');
      // The real client is never refused.
      expect((await authenticate({ authorization: basic('besieged', SECRET), body: {} }))._id).toBe('besieged');
      // Once the wait is over the slowed address is let in with the right secret.
      const later = new Date(Date.now() + (underAttack.firstDelaySeconds + 1) * 1000);
      expect((await authenticate({ authorization: basic('besieged', SECRET), body: {}, address: addressOf(2) }, later))._id).toBe('besieged');
    });

    test('clients without a secret have nothing to guess and are never throttled', async () => {
      for (let i = 0; i < CLIENT_AUTH_THROTTLE.freeAttempts + 2; i++) {
        await expectRefusal(authenticate({ body: { client_id: 'public-client', client_secret: 'guess' } }), 401, 'invalid_client');
      }
      expect((await authenticate({ body: { client_id: 'public-client' } }))._id).toBe('public-client');
    });
  });
});
