import { decodeJwt } from 'jose';
import { hashPassword } from '../../server/crypto/password.js';
import { hashSecret } from '../../server/crypto/secrets.js';
import type { ClientMetadata } from '../../server/store/repositories/clients.js';
import type { LaunchDocument } from '../../server/store/repositories/launches.js';
import { BrowserlessUser, formOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { RawClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { seedClient } from '../support/clients.js';

const FHIR_BASE = 'https://fhir.example.org/r4';
const APP_REDIRECT = 'http://localhost:4300/callback';
const APP_SCOPE = 'openid fhirUser launch launch/patient patient/*.rs offline_access';

/** This suite's own people, so it does not depend on (or collide with) the demo data. */
const PEOPLE = {
  carol: { email: 'carol.launch@example.org', fhirUser: 'Patient/carol' },
  dave: { email: 'dave.launch@example.org', fhirUser: 'Patient/dave' },
  erin: { email: 'erin.launch@example.org', fhirUser: 'Patient/erin' },
  jones: { email: 'dr.jones.launch@example.org', fhirUser: 'Practitioner/jones', patients: ['carol', 'dave'] },
  nobody: { email: 'nobody.launch@example.org' },
};

/**
 * SMART App Launch: the `aud` check, EHR launch (POST /smart/launch, then an app authorizing with
 * launch + aud), standalone launch by a patient and by a practitioner (the picker), and the
 * context in the token response, the access token and across a refresh.
 */
describe.each(storeBackends)('SMART launch ($name store)', (backend) => {
  let server: TestServer;
  let app: RawClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { ASSENT_FHIR_BASE_URLS: `${FHIR_BASE}/` });
    const { accounts, clients } = server.services;
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    for (const [name, person] of Object.entries(PEOPLE)) await accounts.create({ ...person, name, emailVerified: true, passwordHash });
    const client = (id: string, metadata: Partial<ClientMetadata>, secret?: string) => seedClient(clients, id, metadata, secret);
    await client('ehr', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'smart/launch' }, 'ehr-secret');
    await client('smart-app', { redirect_uris: [APP_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: APP_SCOPE });
    await client('other-app', { redirect_uris: [APP_REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], scope: APP_SCOPE });
    app = new RawClient(server.url, 'smart-app', APP_REDIRECT);
  });
  afterAll(() => server?.stop());

  /** What the EHR's client_credentials grant issues (scope smart/launch, the EHR acting for itself). */
  const ehrToken = async (scopes = ['smart/launch']) => (await server.services.tokenService.issueAccessToken({ clientId: 'ehr', subject: 'ehr', scopes })).token;

  async function createLaunch(body: unknown, token?: string) {
    const response = await fetch(`${server.url}/smart/launch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function launchId(body: Record<string, unknown>) {
    const created = await createLaunch(body, await ehrToken());
    expect(created).toMatchObject({ status: 201, body: { launch: expect.any(String), expires_in: 300 } });
    return created.body.launch as string;
  }

  const userOf = (who: keyof typeof PEOPLE) => ({ user: new BrowserlessUser(server.url), options: { email: PEOPLE[who].email, password: DEMO_PASSWORD } });

  describe('POST /smart/launch', () => {
    it('needs a bearer token (401), with scope smart/launch (403)', async () => {
      expect(await createLaunch({ patient: 'carol' })).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
      expect(await createLaunch({ patient: 'carol' }, await ehrToken(['openid']))).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    });

    it.each([
      ['no patient', {}],
      ['a patient that is not a FHIR id', { patient: 'carol/../x' }],
      ['an unknown member', { patient: 'carol', practitioner: 'jones' }],
      ['a fhirContext that is not an array', { patient: 'carol', fhirContext: { reference: 'Encounter/1' } }],
      ['a fhirContext item without a reference', { patient: 'carol', fhirContext: [{ role: 'launch' }] }],
      ['a fhirContext identifier that is not an object', { patient: 'carol', fhirContext: [{ identifier: 'urn:x|1' }] }],
      ['a fhirContext item with an unknown member', { patient: 'carol', fhirContext: [{ reference: 'Encounter/1', display: 'x' }] }],
      ['too many fhirContext items', { patient: 'carol', fhirContext: Array.from({ length: 21 }, (_, i) => ({ reference: `Encounter/${i}` })) }],
      ['a banner that is not a boolean', { patient: 'carol', need_patient_banner: 'yes' }],
      ['a style URL that is no URL', { patient: 'carol', smart_style_url: 'style.json' }],
      ['an unknown patient', { patient: 'zed' }],
      ['a practitioner as the patient', { patient: 'jones' }],
      ['an unknown app', { patient: 'carol', client_id: 'nope' }],
    ])('refuses %s (400 invalid_request), storing nothing', async (_name, body) => {
      const launches = await server.services.store.collection<LaunchDocument>('smart_launches');
      const before = await launches.count({});
      expect(await createLaunch(body, await ehrToken())).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(await launches.count({})).toBe(before);
    });

    it('refuses a body that is not a JSON object', async () => {
      expect(await createLaunch(['carol'], await ehrToken())).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });
  });

  describe('EHR launch', () => {
    const context = {
      patient: 'carol',
      encounter: 'enc-7',
      fhirContext: [
        { reference: 'Encounter/enc-7' },
        { canonical: 'http://example.org/Questionnaire/q|1', role: 'questionnaire' },
        { identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:7f3c' }, type: 'DocumentReference' },
      ],
      need_patient_banner: false,
      smart_style_url: 'https://ehr.example.org/smart-style.json',
      intent: 'reconcile-medications',
    };

    it('puts the EHR context in the token response and the access token (aud = the FHIR base)', async () => {
      const launch = await launchId(context);
      const { user, options } = userOf('jones');
      const tokens = await app.tokens(user, { scope: 'openid fhirUser launch offline_access', launch, aud: FHIR_BASE }, options);
      expect(tokens).toMatchObject(context);
      const claims = decodeJwt(tokens.access_token);
      expect(claims).toMatchObject({ aud: FHIR_BASE, patient: 'carol', encounter: 'enc-7', fhirContext: context.fhirContext, fhirUser: `${FHIR_BASE}/Practitioner/jones` });
    });

    it('answers the token request with no-store and no-cache', async () => {
      const launch = await launchId({ patient: 'carol' });
      const { user, options } = userOf('jones');
      const { code, verifier } = await app.code(user, { scope: 'openid launch', launch, aud: FHIR_BASE }, options);
      const response = await app.exchange(code, verifier);
      expect(response.status).toBe(200);
      expect(response.body.patient).toBe('carol');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('pragma')).toBe('no-cache');
    });

    async function refused(params: Record<string, string>, client = app) {
      const { user, options } = userOf('jones');
      const result = await user.authorize(client.prepare({ scope: 'openid launch', aud: FHIR_BASE, ...params }).url, options);
      expect(result.callback?.searchParams.get('code')).toBeNull();
      return result;
    }

    it('gives no code for a launch used already, unknown or made for another app', async () => {
      const launch = await launchId({ patient: 'carol' });
      const { user, options } = userOf('jones');
      await app.code(user, { scope: 'openid launch', launch, aud: FHIR_BASE }, options);
      for (const params of [{ launch }, { launch: 'never-issued' }]) {
        const { callback } = await refused(params);
        expect(callback?.searchParams.get('error')).toBe('invalid_request');
        expect(callback?.searchParams.get('error_description')).toBe('launch is unknown, expired or was already used');
      }
      const forOther = await launchId({ patient: 'carol', client_id: 'other-app' });
      expect((await refused({ launch: forOther })).callback?.searchParams.get('error_description')).toBe('launch was created for another client');
    });

    it('gives no code for an expired launch', async () => {
      const launch = await launchId({ patient: 'carol' });
      // Five minutes on, as the store sees it: the launch's expiry passed.
      const launches = await server.services.store.collection<LaunchDocument>('smart_launches');
      expect(await launches.update({ _id: hashSecret(launch) }, { expiresAt: new Date(Date.now() - 1000) })).toBe(1);
      const { callback } = await refused({ launch });
      expect(callback?.searchParams.get('error_description')).toBe('launch is unknown, expired or was already used');
    });
  });

  describe('aud', () => {
    it.each([
      ['missing', undefined],
      ['another server', 'https://elsewhere.example.org/r4'],
      ['a prefix of the FHIR base', 'https://fhir.example.org'],
      ['the FHIR base with a path below it', `${FHIR_BASE}/Patient`],
    ])('a SMART request with aud %s gets invalid_request and no code', async (_name, aud) => {
      const { user, options } = userOf('carol');
      const result = await user.authorize(app.prepare({ scope: 'openid launch/patient', aud }).url, options);
      expect(result.callback?.searchParams.get('error')).toBe('invalid_request');
      expect(result.callback?.searchParams.get('code')).toBeNull();
      expect(result.seen).toEqual([]);
    });

    it('takes the FHIR base with a trailing slash', async () => {
      const { user, options } = userOf('carol');
      const tokens = await app.tokens(user, { scope: 'openid launch/patient', aud: `${FHIR_BASE}/` }, options);
      expect(decodeJwt(tokens.access_token).aud).toBe(FHIR_BASE);
    });

    it('shows an error page, not a redirect, when the redirect URI is not the client’s', async () => {
      const { user } = userOf('carol');
      const page = await user.follow(await user.get(app.prepare({ scope: 'launch/patient', redirect_uri: 'https://evil.example/cb' }).url));
      expect(page.status).toBe(400);
      expect(page.location).toBeUndefined();
    });

    it('a request without SMART scopes, launch or aud needs none', async () => {
      const { user, options } = userOf('carol');
      const tokens = await app.tokens(user, { scope: 'openid' }, options);
      expect(decodeJwt(tokens.access_token).aud).toBe(server.services.config.issuer);
      expect(tokens).not.toHaveProperty('patient');
    });
  });

  describe('standalone launch', () => {
    it('puts a patient’s own patient in context, without a picker', async () => {
      const { user, options } = userOf('carol');
      const result = await user.authorize(app.prepare({ scope: 'openid launch/patient', aud: FHIR_BASE }).url, options);
      expect(result.page.html).not.toMatch(/name="patient"/);
      const tokens = await app.tokens(user, { scope: 'openid launch/patient', aud: FHIR_BASE }, options);
      expect(tokens).toMatchObject({ patient: 'carol' });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ patient: 'carol', fhirUser: `${FHIR_BASE}/Patient/carol` });
    });

    /** The practitioner signs in and lands on the picker. */
    async function picker(): Promise<{ user: BrowserlessUser; prepared: ReturnType<RawClient['prepare']>; page: Page }> {
      const { user, options } = userOf('jones');
      const prepared = app.prepare({ scope: 'openid launch/patient offline_access', aud: FHIR_BASE });
      const result = await user.authorize(prepared.url, options);
      expect(result.callback).toBeUndefined();
      return { user, prepared, page: result.page };
    }

    const offered = (page: Page) => formOf(page, /\/patient$/).inputs.filter((i) => i.type === 'radio' && i.name === 'patient').map((i) => i.value);

    it('shows a practitioner the patients of their compartments only, and the pick goes into the token', async () => {
      const { user, prepared, page } = await picker();
      expect(page.status).toBe(200);
      expect(offered(page)).toEqual(['carol', 'dave']);
      expect(textOf(page.html)).toContain('carol (Patient/carol)');
      expect(textOf(page.html)).toContain('dave (Patient/dave)');
      expect(textOf(page.html)).not.toContain('erin');
      const form = formOf(page, /\/patient$/);
      const after = await user.follow(await user.post(form.action, [...hiddenFields(form), ['patient', 'dave']]));
      const result = after.location && after.location.origin !== user.origin ? { callback: after.location } : await user.authorize(after.url, { email: PEOPLE.jones.email });
      const code = result.callback?.searchParams.get('code');
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const response = await app.exchange(code!, prepared.verifier);
      expect(response.body).toMatchObject({ patient: 'dave' });
      expect(decodeJwt(response.body.access_token as string)).toMatchObject({ patient: 'dave', fhirUser: `${FHIR_BASE}/Practitioner/jones` });
    });

    it.each([['erin'], ['jones'], ['']])('refuses a forged pick of %p', async (patient) => {
      const { user, page } = await picker();
      const form = formOf(page, /\/patient$/);
      const answer = await user.post(form.action, [...hiddenFields(form), ['patient', patient]]);
      expect(answer.status).toBe(400);
      expect(answer.location).toBeUndefined();
      expect(textOf(answer.html)).toContain('choose one of the patients offered');
    });

    it('refuses a pick without the form’s CSRF token', async () => {
      const { user, page } = await picker();
      const form = formOf(page, /\/patient$/);
      const answer = await user.post(form.action, [['patient', 'carol']]);
      expect(answer.status).toBe(403);
    });

    it('answers prompt=none with interaction_required when a practitioner would have to pick', async () => {
      const { user } = userOf('jones');
      expect((await user.signIn(PEOPLE.jones.email, DEMO_PASSWORD)).status).toBe(303);
      const result = await user.authorize(app.prepare({ scope: 'openid launch/patient', aud: FHIR_BASE, prompt: 'none' }).url);
      expect(result.callback?.searchParams.get('error')).toBe('interaction_required');
    });

    it('goes on without a patient for an account that reaches none', async () => {
      const { user, options } = userOf('nobody');
      const tokens = await app.tokens(user, { scope: 'openid launch/patient', aud: FHIR_BASE }, options);
      expect(tokens).not.toHaveProperty('patient');
    });
  });

  describe('refresh', () => {
    it('keeps the context and the audience, and may only narrow the scope', async () => {
      const launch = await launchId({ patient: 'carol', encounter: 'enc-9', need_patient_banner: true });
      const { user, options } = userOf('jones');
      const tokens = await app.tokens(user, { scope: 'openid launch offline_access', launch, aud: FHIR_BASE }, options);
      expect(tokens.refresh_token).toBeDefined();
      const refreshed = await app.refresh(tokens.refresh_token!);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toMatchObject({ patient: 'carol', encounter: 'enc-9', need_patient_banner: true, refresh_token: expect.any(String) });
      expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ aud: FHIR_BASE, patient: 'carol', encounter: 'enc-9' });
      const narrowed = await app.refresh(refreshed.body.refresh_token as string, 'openid');
      expect(narrowed.body).toMatchObject({ scope: 'openid', patient: 'carol' });
      const widened = await app.refresh(narrowed.body.refresh_token as string, 'openid patient/*.rs');
      expect(widened).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    });
  });
});
