import { beginAuthorization, continueAfterUpstreamLogin, showInteraction, submitConsent, submitLogin, type AuthorizationOutcome } from '../../server/oauth/authorization-flow.js';
import { bearerToken } from '../../server/protocol/bearer.js';
import { ProtocolError } from '../../server/protocol/errors.js';
import type { CookieToSet } from '../../server/store/repositories/browser-bound.js';
import { pkce, randomValue } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { accountId } from '../uma/sharing-support.js';
import { DEMO_EMAIL } from '../support/browserless-user.js';

const REDIRECT_URI = 'http://localhost:4200/callback';

describe('bearerToken (RFC 6750 §2.1)', () => {
  test('takes the token of a Bearer header, whatever the case of the scheme', () => {
    expect(bearerToken('Bearer abc.DEF-_~+/==')).toBe('abc.DEF-_~+/==');
    expect(bearerToken('bearer abc')).toBe('abc');
  });

  test.each([undefined, '', 'Basic abc', 'Bearer', 'Bearer a b', 'Bearer  abc', 'Bearer abc,def'])('refuses %p with the bare challenge', (header) => {
    let error: unknown;
    try {
      bearerToken(header);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_token', headers: { 'WWW-Authenticate': 'Bearer' } });
  });
});

/** The authorization flow as a service: outcomes and cookies as data, no HTTP. */
describe.each(storeBackends)('authorization flow on the $name store', (backend) => {
  let server: TestServer;
  let ownerId: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    ownerId = await accountId(server.services);
  });
  afterAll(() => server?.stop());

  const request = (extra: Record<string, string> = {}) => ({
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid email',
    state: randomValue(),
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...extra,
  });

  /** The request's cookies, as the browser would send them back. */
  const jar = (cookies: CookieToSet[] = []) => ({ get: (name: string) => cookies.find((c) => c.name === name)?.value ?? undefined });

  async function started(extra: Record<string, string> = {}) {
    const outcome = await beginAuthorization(server.services, request(extra), null);
    expect(outcome).toMatchObject({ kind: 'redirect', url: expect.stringMatching(/^\/interaction\/[\w-]+$/) });
    const id = (outcome as { url: string }).url.split('/').pop()!;
    const interaction = await server.services.interactions.find(id, jar(outcome.cookies));
    expect(interaction).not.toBeNull();
    return { outcome, interaction: interaction! };
  }

  test('without a session the request waits in an interaction bound to the browser by a cookie on /interaction', async () => {
    const { outcome, interaction } = await started({ login_hint: 'alice@example.org' });
    expect(outcome.cookies).toEqual([{ name: `assent_interaction_${interaction._id.slice(0, 16)}`, value: expect.any(String), path: '/interaction', maxAgeMs: 15 * 60 * 1000 }]);
    expect(outcome.signIn).toBeUndefined();
    expect(await server.services.interactions.find(interaction._id, jar())).toBeNull();
    expect(await showInteraction(server.services, interaction)).toEqual({
      kind: 'needs-login',
      interaction: { id: interaction._id, csrf: interaction.csrf, clientName: 'Demo patient app' },
      email: 'alice@example.org',
    });
  });

  test('prompt=none without a session goes back to the client with login_required', async () => {
    const outcome = await beginAuthorization(server.services, request({ prompt: 'none' }), null);
    expect(outcome).toMatchObject({ kind: 'error-redirect', error: 'login_required' });
    expect(new URL((outcome as { url: string }).url).searchParams.get('error')).toBe('login_required');
  });

  test('a wrong password is the login page again with the failure; the right one signs in and asks consent', async () => {
    const { interaction } = await started();
    const refused = await submitLogin(server.services, interaction, { email: DEMO_EMAIL, password: 'wrong' }, '192.0.2.1');
    expect(refused).toMatchObject({ kind: 'needs-login', email: DEMO_EMAIL, failure: { status: 401 } });
    expect(refused.signIn).toBeUndefined();

    const accepted = await submitLogin(server.services, interaction, { email: DEMO_EMAIL, password: DEMO_PASSWORD }, '192.0.2.1');
    expect(accepted).toMatchObject({ kind: 'redirect', url: `/interaction/${interaction._id}`, signIn: { accountId: ownerId } });
    const consent = await showInteraction(server.services, (await server.services.interactions.byId(interaction._id))!);
    expect(consent).toMatchObject({ kind: 'needs-consent', email: DEMO_EMAIL, reconsent: false, consent: { ask: ['email', 'openid'] } });
  });

  test('after an upstream login, consent ends the interaction with a code and the cookie that unbinds it', async () => {
    const { interaction } = await started();
    const login = { accountId: ownerId, authTime: Math.floor(Date.now() / 1000) };
    expect(await continueAfterUpstreamLogin(server.services, interaction._id, login)).toMatchObject({ kind: 'redirect', signIn: login });
    const waiting = (await server.services.interactions.byId(interaction._id))!;
    const outcome: AuthorizationOutcome = await submitConsent(server.services, waiting, 'allow', { scopes: ['email', 'openid'], categories: [] });
    expect(outcome.kind).toBe('redirect');
    const url = new URL((outcome as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
    expect(url.searchParams.get('code')).toEqual(expect.any(String));
    expect(outcome.cookies).toEqual([{ name: `assent_interaction_${interaction._id.slice(0, 16)}`, value: null, path: '/interaction' }]);
    await expect(submitConsent(server.services, waiting, 'allow', { scopes: [], categories: [] })).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    await expect(continueAfterUpstreamLogin(server.services, interaction._id, login)).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
  });
});
