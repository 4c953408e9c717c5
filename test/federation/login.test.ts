import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { issueTicket } from '../../server/uma/tickets.js';
import { BrowserlessUser, DEMO_EMAIL, formOf, formsOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { basicAuth, pkce, postForm, randomValue } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { addResource, accountId, createAccount, signedIn } from '../uma/sharing-support.js';
import { OAUTH2_ID, OAUTH2_NAME, UPSTREAM_ID, UPSTREAM_NAME, UpstreamProvider, upstreamEnv, type IdTokenTamper } from '../support/upstream-provider.js';
import { UMA_TICKET_GRANT as UMA_GRANT } from '../../server/uma/grant.js';

/**
 * Logging in through an upstream OpenID provider (a real oidc-provider on loopback), over HTTP
 * with a cookie-jar user: a requesting party with no local account during UMA claims
 * interaction, a patient with a linked identity during an authorization request, linking from
 * the account page, and the ways it must fail (no session, no party, a clear page).
 */
const CLINIC_CLAIMS = 'http://localhost:4700/claims';
const DEMO_REDIRECT = 'http://localhost:4200/callback';
const RESOURCE = 'fed-meds';

describe.each(storeBackends)('federated login on the $name store', (backend) => {
  let server: TestServer;
  let upstream: UpstreamProvider;
  let social: UpstreamProvider;
  let clinic: { id: string; secret: string };
  let ownerId: string;

  beforeAll(async () => {
    const accounts = {
      'dr-verified': { email: 'dr.verified@clinic.example', email_verified: true, name: 'Dr Verified' },
      'dr-unverified': { email: 'dr.unverified@clinic.example', email_verified: false, name: 'Dr Unverified' },
      'alice-upstream': { email: 'alice@upstream.example', email_verified: true, name: 'Alice' },
      'someone-else': { email: 'else@upstream.example', email_verified: true },
      'bob-upstream': { email: 'bob@upstream.example', email_verified: true },
    };
    upstream = await UpstreamProvider.listen(accounts);
    // A second provider, configured as plain OAuth 2 (no ID token is used: identity from userinfo).
    social = await UpstreamProvider.listen(accounts, { id: OAUTH2_ID, name: OAUTH2_NAME, type: 'oauth2' });
    server = await startTestServer(backend, upstreamEnv(upstream.config(), social.config()));
    upstream.serve(server.services.config.issuer);
    social.serve(server.services.config.issuer);
    ownerId = await accountId(server.services);
    await addResource(server.services, ownerId, { id: RESOURCE, name: 'Medications', type: 'MedicationStatement', scopes: ['read', 'write'] });
    for (const email of ['dr.verified@clinic.example', 'dr.unverified@clinic.example']) {
      await server.services.sharingRules.add(ownerId, { id: `rule-${email.split('@')[0]!.replace('.', '-')}`, effect: 'allow', grantee: { email }, resources: { types: ['MedicationStatement'] }, scopes: ['read'], conditions: { email_verified: true } });
    }
    const response = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Clinic EHR', grant_types: ['authorization_code', UMA_GRANT], redirect_uris: ['http://localhost:4700/callback'], claims_redirect_uris: [CLINIC_CLAIMS], scope: 'openid uma_authorization' }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { client_id: string; client_secret: string };
    clinic = { id: body.client_id, secret: body.client_secret };
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.close().catch(() => undefined);
    await social?.close().catch(() => undefined);
  });

  const grant = (ticket: string) => postForm(server.url, '/token', { grant_type: UMA_GRANT, ticket }, { Authorization: basicAuth(clinic.id, clinic.secret) });

  /** A fresh claims interaction for a ticket on the resource; returns the sign-in page. */
  async function claimsInteraction(user: BrowserlessUser) {
    const ticket = await issueTicket(server.services, { ownerId, resourceServerId: 'demo-resource-server', permissions: [{ resource_id: RESOURCE, resource_scopes: ['read'] }] });
    const url = new URL('/uma/claims', server.url);
    url.search = new URLSearchParams({ client_id: clinic.id, ticket, claims_redirect_uri: CLINIC_CLAIMS, state: 'st' }).toString();
    return user.follow(await user.get(url));
  }

  /** The "Log in with <provider>" link of a page. */
  function upstreamLink(page: Page, provider = upstream): URL {
    const links = [...page.html.matchAll(/<a class="button secondary" href="([^"]+)">Log in with ([^<]+)<\/a>/g)];
    expect(links.map((l) => l[2])).toEqual([UPSTREAM_NAME, OAUTH2_NAME]);
    const link = links.find((l) => l[2] === provider.name)!;
    return new URL(link[1]!.replace(/&amp;/g, '&'), page.url);
  }

  /** Clicks the link: Assent sends the browser to the provider's authorization endpoint. */
  async function toUpstream(user: BrowserlessUser, link: URL, provider = upstream): Promise<URL> {
    const page = await user.get(link);
    expect(page.status).toBe(303);
    expect(page.location!.origin).toBe(provider.issuer);
    const sent = page.location!.searchParams;
    const oauth2 = provider.type === 'oauth2';
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('scope')).toBe(oauth2 ? 'openid email' : 'openid email profile');
    expect(sent.get('redirect_uri')).toBe(`${server.services.config.issuer}/federation/callback/${provider.id}`);
    expect(sent.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.has('nonce')).toBe(!oauth2);
    return page.location!;
  }

  async function gatherVia(login: string, provider = upstream): Promise<URL> {
    const user = new BrowserlessUser(server.url);
    const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user), provider), provider);
    const callback = await provider.signIn(authorization, login);
    const back = await user.get(callback);
    expect(back.status).toBe(303);
    expect(`${back.location!.origin}${back.location!.pathname}`).toBe(CLINIC_CLAIMS);
    expect(user.cookie('assent_session')).toBeUndefined();
    return back.location!;
  }

  test('a requesting party with no local account logs in upstream; their verified email matches a rule → RPT', async () => {
    const back = await gatherVia('dr-verified');
    expect(back.searchParams.get('state')).toBe('st');
    const granted = await grant(back.searchParams.get('ticket')!);
    expect(granted.status).toBe(200);
    expect(granted.body.access_token).toEqual(expect.any(String));
    expect(await server.services.accounts.byEmail('dr.verified@clinic.example')).toBeNull();
  });

  test('through a plain OAuth 2 provider the identity comes from its userinfo endpoint', async () => {
    const back = await gatherVia('dr-verified', social);
    const granted = await grant(back.searchParams.get('ticket')!);
    expect(granted.status).toBe(200);
    const [last] = await server.services.decisions.ofOwner(ownerId, 'claims', 1);
    expect((last!.input as { requesting_party: unknown }).requesting_party).toEqual({ iss: social.issuer, sub: 'dr-verified', email: 'dr.verified@clinic.example', email_verified: true });
  });

  test('an unverified email does not match a rule that needs verification', async () => {
    const back = await gatherVia('dr-unverified');
    const answer = await grant(back.searchParams.get('ticket')!);
    expect(answer.status).toBe(403);
    expect(answer.body.access_token).toBeUndefined();
    expect(answer.body.error).not.toBe('need_info');
  });

  async function startAuthorization(user: BrowserlessUser, extra: Record<string, string> = {}, verifier = pkce()): Promise<Page> {
    const url = new URL('/authorize', server.url);
    url.search = new URLSearchParams({ response_type: 'code', client_id: 'demo-app', redirect_uri: DEMO_REDIRECT, scope: 'openid', state: randomValue(), nonce: randomValue(), code_challenge: verifier.challenge, code_challenge_method: 'S256', ...extra }).toString();
    const page = await user.follow(await user.get(url));
    expect(formOf(page).action.pathname).toMatch(/\/login$/);
    return page;
  }

  async function link(email: string, login: string): Promise<Page> {
    const user = await signedIn(server.url, email);
    const account = await user.get('/account');
    expect(textOf(account.html)).toContain('Linked identities');
    const form = formsOf(account).find((f) => f.action.pathname.endsWith('/link'))!;
    const started = await user.post(form.action, hiddenFields(form));
    expect(started.status).toBe(303);
    const callback = await upstream.signIn(started.location!, login);
    return user.follow(await user.get(callback));
  }

  test('linking from the account page, then logging in with it during an authorization request', async () => {
    const linked = await link(DEMO_EMAIL, 'alice-upstream');
    expect(linked.url.pathname).toBe('/account');
    expect(textOf(linked.html)).toContain(`${UPSTREAM_NAME} alice@upstream.example`);
    expect(await server.services.identities.find(upstream.issuer, 'alice-upstream')).toMatchObject({ accountId: ownerId, providerId: 'testidp' });

    // Someone else's account cannot take the same identity.
    const other = await server.services.accounts.create({ name: 'Other', email: `other-${randomValue().toLowerCase()}@example.org`, emailVerified: true, passwordHash: (await server.services.accounts.byEmail(DEMO_EMAIL))!.passwordHash! });
    const clash = await link(other.email, 'alice-upstream');
    expect(clash.status).toBe(409);
    expect(textOf(clash.html)).toContain('already linked to another account');

    const user = new BrowserlessUser(server.url);
    const authorization = await toUpstream(user, upstreamLink(await startAuthorization(user)));
    let page = await user.get(await upstream.signIn(authorization, 'alice-upstream'));
    expect(user.cookie('assent_session')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    page = await user.follow(page);
    if (page.status === 200) page = await user.post(formOf(page).action, [...hiddenFields(formOf(page)), ['decision', 'allow']]);
    expect(page.location!.href.startsWith(DEMO_REDIRECT)).toBe(true);
    expect(page.location!.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  test('linking needs a recent sign-in; "Revoke everything" unlinks every identity', async () => {
    const bob = await createAccount(server.services, `bob-${randomValue().toLowerCase().replace(/[^a-z0-9]/g, '')}@example.org`);
    const user = await signedIn(server.url, bob.email);
    const linkForm = async () => formsOf(await user.get('/account')).find((f) => f.action.pathname.endsWith(`/${UPSTREAM_ID}/link`))!;

    // An hour-old sign-in is not enough to add a way into the account.
    const sessions = await server.services.store.collection<{ _id: string; accountId: string; authTime: number }>('sessions');
    await sessions.update({ accountId: bob._id }, { authTime: Math.floor(Date.now() / 1000) - 3600 });
    const form = await linkForm();
    const stale = await user.post(form.action, hiddenFields(form));
    expect(stale.status).toBe(303);
    expect(`${stale.location!.pathname}${stale.location!.search}`).toBe('/login?reason=link');
    expect(textOf((await user.get(stale.location!)).html)).toContain('To link another identity, sign in again first.');
    expect(await server.services.identities.ofAccount(bob._id)).toEqual([]);

    const fresh = await signedIn(server.url, bob.email);
    const freshForm = formsOf(await fresh.get('/account')).find((f) => f.action.pathname.endsWith(`/${UPSTREAM_ID}/link`))!;
    const started = await fresh.post(freshForm.action, hiddenFields(freshForm));
    await fresh.follow(await fresh.get(await upstream.signIn(started.location!, 'bob-upstream')));
    expect(await server.services.identities.ofAccount(bob._id)).toHaveLength(1);

    const revokeAll = formsOf(await fresh.get('/account')).find((f) => f.action.pathname === '/account/revoke-all')!;
    expect((await fresh.post(revokeAll.action, hiddenFields(revokeAll))).status).toBe(303);
    expect(await server.services.identities.ofAccount(bob._id)).toEqual([]);
  });

  test('a linked identity signs in to the account pages from /login; an unlinked one does not', async () => {
    // Linked to the demo patient by the test above.
    const user = new BrowserlessUser(server.url);
    const login = await user.get('/login');
    const back = await user.get(await upstream.signIn(await toUpstream(user, upstreamLink(login)), 'alice-upstream'));
    expect(back.status).toBe(303);
    expect(back.location!.pathname).toBe('/account');
    const account = await user.follow(back);
    expect(textOf(account.html)).toContain(DEMO_EMAIL);

    const stranger = new BrowserlessUser(server.url);
    const refused = await stranger.get(await upstream.signIn(await toUpstream(stranger, upstreamLink(await stranger.get('/login'))), 'someone-else'));
    expect(refused.status).toBe(403);
    expect(stranger.cookie('assent_session')).toBeUndefined();
  });

  test('a linked identity of a disabled account does not sign in', async () => {
    // Linked to the demo patient above.
    const aliceId = await accountId(server.services);
    await server.services.accounts.change(aliceId, { disabled: true });
    try {
      const user = new BrowserlessUser(server.url);
      const refused = await user.get(await upstream.signIn(await toUpstream(user, upstreamLink(await user.get('/login'))), 'alice-upstream'));
      expect(refused.status).toBe(403);
      expect(textOf(refused.html)).toContain('The account linked to this identity is disabled.');
      expect(user.cookie('assent_session')).toBeUndefined();
    } finally {
      await server.services.accounts.change(aliceId, { disabled: false });
    }
  });

  test('prompt=login reaches the provider as prompt=login and max_age=0; an old upstream sign-in is refused; auth_time is the provider\'s', async () => {
    // alice-upstream was linked to the demo patient above.
    const verifier = pkce();
    const user = new BrowserlessUser(server.url);
    const authorization = await toUpstream(user, upstreamLink(await startAuthorization(user, { prompt: 'login' }, verifier)));
    expect(authorization.searchParams.get('prompt')).toBe('login');
    expect(authorization.searchParams.get('max_age')).toBe('0');
    const callback = await upstream.signIn(authorization, 'alice-upstream');
    // A provider that answered with an hour-old sign-in did not do what was asked.
    const refused = await upstream.tampering((claims) => ({ claims: { ...claims, auth_time: Math.floor(Date.now() / 1000) - 3600 } }), () => user.get(callback));
    expect(refused.status).toBe(400);
    expect(user.cookie('assent_session')).toBeUndefined();

    // A provider that signed her in ten seconds ago: that is the auth_time Assent's ID token carries.
    const again = new BrowserlessUser(server.url);
    const againCallback = await upstream.signIn(await toUpstream(again, upstreamLink(await startAuthorization(again, { prompt: 'login' }, verifier))), 'alice-upstream');
    const upstreamAuthTime = Math.floor(Date.now() / 1000) - 10;
    let page = await upstream.tampering((claims) => ({ claims: { ...claims, auth_time: upstreamAuthTime } }), async () => again.follow(await again.get(againCallback)));
    if (page.status === 200) page = await again.post(formOf(page).action, [...hiddenFields(formOf(page)), ['decision', 'allow']]);
    const code = page.location!.searchParams.get('code')!;
    const tokens = await postForm(server.url, '/token', { grant_type: 'authorization_code', code, redirect_uri: DEMO_REDIRECT, client_id: 'demo-app', code_verifier: verifier.verifier });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.id_token as string).auth_time).toBe(upstreamAuthTime);
  });

  test('an identity linked to no account cannot log a patient in', async () => {
    const user = new BrowserlessUser(server.url);
    const authorization = await toUpstream(user, upstreamLink(await startAuthorization(user)));
    const page = await user.get(await upstream.signIn(authorization, 'someone-else'));
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain('link this identity from your account page first');
    expect(user.cookie('assent_session')).toBeUndefined();
  });

  describe('bad input on the federation routes: a 4xx page, nothing written', () => {
    const tripCount = async () => (await (await server.services.store.collection('federation_states')).find({})).length;

    test.each<[string, string, number]>([
      ['an interaction that does not exist', '/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/federation/testidp', 400],
      ['a claims interaction that does not exist', '/uma/claims/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/federation/testidp', 400],
      ['a provider that is not configured', '/login/federation/nope', 404],
      ['a provider id with odd characters', '/login/federation/%00%3Cscript%3E', 404],
      ['a callback without state', '/federation/callback/testidp?code=abc', 400],
      ['a callback with a malformed state', '/federation/callback/testidp?code=abc&state=%3C%3E', 400],
      ['a callback with the state twice', '/federation/callback/testidp?code=abc&state=aaaaaaaaaaaaaaaaaaaaaaaa&state=bbbbbbbbbbbbbbbbbbbbbbbb', 400],
      ['a callback with an error and no state', '/federation/callback/testidp?error=access_denied', 400],
    ])('%s', async (_name, path, status) => {
      const before = await tripCount();
      const user = new BrowserlessUser(server.url);
      const page = await user.get(path);
      expect(page.status).toBe(status);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.html).not.toMatch(/at .*\.ts:\d+|Error:|<script/);
      expect(await tripCount()).toBe(before);
    });

    test('linking needs a session and the form\'s CSRF token; unlinking needs an identity', async () => {
      const before = await tripCount();
      const anonymous = new BrowserlessUser(server.url);
      const noSession = await anonymous.post('/account/identities/testidp/link', [['csrf', 'x']]);
      expect(noSession.status).toBe(303);
      expect(noSession.location!.pathname).toBe('/login');

      const user = await signedIn(server.url, DEMO_EMAIL);
      const noCsrf = await user.post('/account/identities/testidp/link', [['csrf', 'forged']]);
      expect(noCsrf.status).toBe(403);
      const form = formsOf(await user.get('/account')).find((f) => f.action.pathname.endsWith('/link'))!;
      const unknown = await user.post('/account/identities/nope/link', hiddenFields(form));
      expect(unknown.status).toBe(404);
      expect(unknown.html).toContain('<code>not_found</code>');
      expect(await tripCount()).toBe(before);

      const unlinkForm = hiddenFields(form).filter(([name]) => name === 'csrf');
      expect((await user.post('/account/identities/unlink', unlinkForm)).status).toBe(400);
      expect((await user.post('/account/identities/unlink', [['csrf', 'forged'], ['identity', 'x']])).status).toBe(403);
    });
  });

  describe('failures: a clear page, no session, no party', () => {
    async function expectRefused(page: Page, status: number, user: BrowserlessUser) {
      expect(page.status).toBe(status);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.html).not.toMatch(/at .*\.ts:\d+|Error:/);
      expect(user.cookie('assent_session')).toBeUndefined();
    }

    test('a state that does not match, and a replayed callback', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      const wrong = new URL(callback);
      wrong.searchParams.set('state', randomValue() + randomValue());
      await expectRefused(await user.get(wrong), 400, user);
      expect((await user.get(callback)).status).toBe(303);
      const replay = await user.get(callback);
      await expectRefused(replay, 400, user);
      expect(textOf(replay.html)).toContain('already used');
    });

    test('a callback in another browser is refused', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      const stranger = new BrowserlessUser(server.url);
      await expectRefused(await stranger.get(callback), 400, stranger);
      // A leaked callback URL is spent by whoever presents it first.
      await expectRefused(await user.get(callback), 400, user);
    });

    test('a nonce that does not match (tampered state record)', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const states = await server.services.store.collection<{ _id: string; nonce?: string }>('federation_states');
      const id = createHash('sha256').update(authorization.searchParams.get('state')!).digest('base64url');
      await states.update({ _id: id }, { nonce: randomValue() });
      const page = await user.get(await upstream.signIn(authorization, 'dr-verified'));
      await expectRefused(page, 400, user);
      expect(textOf(page.html)).toContain('could not be verified');
    });

    test('an answer delivered to another provider\'s redirect URI (mix-up) is refused, and spends the trip', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      const mixedUp = new URL(callback);
      mixedUp.pathname = `/federation/callback/${OAUTH2_ID}`;
      const page = await user.get(mixedUp);
      await expectRefused(page, 400, user);
      expect(textOf(page.html)).toContain('different identity provider');
      await expectRefused(await user.get(callback), 400, user);
    });

    test('(control) an ID token re-signed unchanged by the provider\'s own key is accepted', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      expect((await upstream.tampering((claims) => ({ claims }), () => user.get(callback))).status).toBe(303);
    });

    test.each<[string, IdTokenTamper]>([
      ['issued to another client', (claims) => ({ claims: { ...claims, aud: 'another-client' } })],
      ['expired', (claims) => ({ claims: { ...claims, iat: claims.iat! - 7200, exp: claims.iat! - 3600 } })],
      ['signed with a key the provider does not publish', (claims) => ({ claims, key: 'foreign' })],
      ['from another issuer', (claims) => ({ claims: { ...claims, iss: 'https://elsewhere.example' } })],
    ])('an ID token %s is refused at the callback', async (_name, tamper) => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      const page = await upstream.tampering(tamper, () => user.get(callback));
      await expectRefused(page, 400, user);
      expect(textOf(page.html)).toContain('could not be verified');
    });

    test('the user cancels at the provider', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified', { deny: true });
      expect(callback.searchParams.get('error')).toBe('access_denied');
      const page = await user.get(callback);
      await expectRefused(page, 403, user);
      expect(textOf(page.html)).toContain('You did not sign in');
    });

    test('the provider is down when its answer is redeemed', async () => {
      const user = new BrowserlessUser(server.url);
      const authorization = await toUpstream(user, upstreamLink(await claimsInteraction(user)));
      const callback = await upstream.signIn(authorization, 'dr-verified');
      await upstream.close();
      const page = await user.get(callback);
      await expectRefused(page, 502, user);
      expect(textOf(page.html)).toContain('could not be reached');
    });
  });
});
