import type { UpstreamProviderConfig } from '../../server/config/config.js';
import { FederationStates } from '../../server/federation/federation-states.js';
import { beginFederation, completeFederation, type FederationDeps } from '../../server/federation/login.js';
import { ProviderMetadata } from '../../server/federation/provider-metadata.js';
import { createLogger } from '../../server/logger.js';
import { ProtocolError } from '../../server/protocol/errors.js';
import type { Store } from '../../server/store/port.js';
import type { CookieToSet, RequestCookies } from '../../server/store/repositories/browser-bound.js';
import { disposeStore, storeBackends } from '../support/stores.js';

/**
 * The federation services without HTTP: a trip's state and browser binding (FederationStates),
 * the errors of starting a trip, and the answers of the callback that come before any code is
 * redeemed (the full round trips with a real provider are in login.test.ts).
 */
const ISSUER = 'https://idp.example';
const provider: UpstreamProviderConfig = { id: 'idp', type: 'oidc', issuer: ISSUER, clientId: 'assent', displayName: 'Example IdP' };
const other: UpstreamProviderConfig = { id: 'other', type: 'oidc', issuer: 'https://other.example', clientId: 'assent', displayName: 'Other IdP' };
const broken: UpstreamProviderConfig = { id: 'broken', type: 'oidc', issuer: 'https://broken.example', clientId: 'assent', displayName: 'Broken IdP' };
const discovery = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
};

/** The cookies a browser would send back after being given `set`. */
const jar = (...set: CookieToSet[]): RequestCookies => {
  const values = new Map(set.filter((c) => c.value !== null).map((c) => [c.name, c.value as string]));
  return { get: (name) => values.get(name) };
};

describe.each(storeBackends)('federation trips on the $name store', (backend) => {
  let store: Store;
  let deps: FederationDeps;
  let answers: Record<string, unknown>;
  let down: boolean;

  beforeAll(async () => {
    store = await backend.open();
    const fetch: typeof globalThis.fetch = async (input) => {
      if (down) throw new TypeError('fetch failed');
      const body = answers[String(input instanceof Request ? input.url : input)];
      return body === undefined ? new Response('not found', { status: 404 }) : Response.json(body);
    };
    deps = {
      config: { issuer: 'https://assent.example' },
      upstream: new ProviderMetadata([provider, other, broken], { fetch }),
      federationStates: await FederationStates.open(store),
      logger: createLogger('silent'),
    };
  });

  beforeEach(() => {
    answers = { [`${ISSUER}/.well-known/openid-configuration`]: discovery, 'https://other.example/.well-known/openid-configuration': { ...discovery, issuer: 'https://other.example' },
      // Discovery without an authorization endpoint: a provider that cannot sign anybody in.
      'https://broken.example/.well-known/openid-configuration': { issuer: 'https://broken.example', token_endpoint: 'https://broken.example/token', jwks_uri: 'https://broken.example/jwks' },
    };
    down = false;
  });

  afterAll(async () => {
    if (store) await disposeStore(store);
  });

  test('a trip is bound to the browser holding its cookie and taken once', async () => {
    const { state, cookie } = await deps.federationStates.create({ providerId: 'idp', purpose: 'account', targetId: 'account', codeVerifier: 'v', nonce: 'n' });
    expect(cookie).toEqual({ name: expect.stringMatching(/^assent_federation_/), value: expect.any(String), path: '/federation', maxAgeMs: 600_000 });
    expect((await deps.federationStates.take(state, jar())).trip).toBeNull();
    // Presented without the cookie, the trip is used up all the same.
    const again = await deps.federationStates.take(state, jar(cookie));
    expect(again.trip).toBeNull();

    const next = await deps.federationStates.create({ providerId: 'idp', purpose: 'link', targetId: 'acc-1', codeVerifier: 'v' });
    const taken = await deps.federationStates.take(next.state, jar(next.cookie));
    expect(taken.trip).toMatchObject({ providerId: 'idp', purpose: 'link', targetId: 'acc-1', codeVerifier: 'v', finishedAt: expect.any(Date) });
    expect(taken.trip).not.toHaveProperty('nonce');
    expect(taken.cookies).toEqual([{ name: next.cookie.name, value: null, path: '/federation' }]);
    expect((await deps.federationStates.take(next.state, jar(next.cookie))).trip).toBeNull();
    expect((await deps.federationStates.take('<>', jar())).cookies).toEqual([]);
  });

  test('starting a trip: the provider URL and the binding cookie; an unknown provider is not_found', async () => {
    const { url, cookie } = await beginFederation(deps, 'idp', 'login', 'interaction-1', 0);
    const sent = new URL(url).searchParams;
    expect(url.startsWith(`${ISSUER}/authorize?`)).toBe(true);
    expect(Object.fromEntries(['redirect_uri', 'prompt', 'max_age', 'code_challenge_method'].map((name) => [name, sent.get(name)]))).toEqual({
      redirect_uri: 'https://assent.example/federation/callback/idp',
      prompt: 'login',
      max_age: '0',
      code_challenge_method: 'S256',
    });
    expect(cookie.path).toBe('/federation');
    await expect(beginFederation(deps, 'nope', 'account', 'account')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  test('a provider that cannot be reached is 502 temporarily_unavailable, and nothing is stored', async () => {
    down = true;
    const refused = await beginFederation(deps, 'other', 'account', 'account').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ProtocolError);
    expect(refused).toMatchObject({ status: 502, code: 'temporarily_unavailable' });
    expect(await (await store.collection('federation_states')).count({ providerId: 'other' })).toBe(0);
  });

  test('a provider whose discovery has no authorization endpoint is 502 server_error, and nothing is stored', async () => {
    const refused = await beginFederation(deps, 'broken', 'account', 'account').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ProtocolError);
    expect(refused).toMatchObject({ status: 502, code: 'server_error' });
    expect(await (await store.collection('federation_states')).count({ providerId: 'broken' })).toBe(0);
  });

  test('callbacks answered before any code is redeemed: no trip, another provider\'s trip, the provider\'s error', async () => {
    expect(await completeFederation(deps, jar(), 'idp', 'code=abc')).toEqual({ kind: 'no-trip', cookies: [] });
    const twice = await completeFederation(deps, jar(), 'idp', 'code=abc&state=aaaaaaaaaaaaaaaaaaaaaaaa&state=bbbbbbbbbbbbbbbbbbbbbbbb');
    expect(twice.kind).toBe('no-trip');

    const toIdp = await beginFederation(deps, 'idp', 'account', 'account');
    const state = new URL(toIdp.url).searchParams.get('state')!;
    const mixedUp = await completeFederation(deps, jar(toIdp.cookie), 'other', `code=abc&state=${state}`);
    expect(mixedUp).toEqual({ kind: 'wrong-provider', cookies: [{ name: toIdp.cookie.name, value: null, path: '/federation' }] });

    const cancelled = await beginFederation(deps, 'idp', 'claims', 'claims-1');
    const cancelledState = new URL(cancelled.url).searchParams.get('state')!;
    const answer = await completeFederation(deps, jar(cancelled.cookie), 'idp', `error=access_denied&state=${cancelledState}`);
    expect(answer).toMatchObject({ kind: 'provider-error', error: 'access_denied', provider: { id: 'idp' } });
  });
});
