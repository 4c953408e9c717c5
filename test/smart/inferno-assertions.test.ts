import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { BrowserlessUser } from '../support/browserless-user.js';
import { seedClient } from '../support/clients.js';
import { startDemoWithAssent, type DemoWithAssent } from '../support/demo.js';
import { basicAuth, postForm, RawClient, type TokenSet } from '../support/oauth-flow.js';
import { DEMO_PASSWORD } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The assertions of the Inferno SMART App Launch test kit (STU 2.2) and of the ONC (g)(10)
 * additions, reproduced as independent tests because Inferno cannot run here. Inferno's way of
 * working is kept: it starts from the FHIR base (the demo FHIR server, which serves the
 * smart-configuration), registers as an ordinary client, drives real launches, and judges by
 * what the FHIR server then serves. Each `describe` names the Inferno group it stands for.
 * Backend Services has its own suite (backend-services.test.ts).
 */
const REDIRECT = 'http://localhost:4567/inferno/redirect';
const SECRET = 'inferno-client-secret';
/** Inferno's default standalone scopes, v1 and v2 forms (its STU 2 suites ask for v2). */
const V1_SCOPES = 'launch/patient openid fhirUser offline_access patient/Patient.read patient/Observation.read patient/Condition.read';
const V2_SCOPES = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs patient/Condition.rs';
const LAB = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const ALICE = { email: 'alice@example.org', password: DEMO_PASSWORD };
const DR_SMITH = { email: 'dr.smith@example.org', password: DEMO_PASSWORD };
/** One client per group that consents, so no group rides on another's remembered grant. */
const CLIENTS = ['standalone', 'v1', 'limited', 'granular', 'pkce', 'ehr-app', 'revocation'] as const;
type InfernoClient = (typeof CLIENTS)[number];

interface Bundle {
  entry?: { resource: { resourceType: string; id: string } }[];
}

describe.each(storeBackends)('Inferno SMART App Launch STU 2.2 and ONC (g)(10) assertions ($name store)', (backend) => {
  let setup: DemoWithAssent;
  let fhirBase: string;
  let smartConfiguration: Record<string, unknown>;

  beforeAll(async () => {
    setup = await startDemoWithAssent(backend);
    fhirBase = setup.demo.address.base;
    const { clients } = setup.assent.services;
    const metadata = { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' as const };
    const scope = `launch ${V2_SCOPES} ${V1_SCOPES} user/Patient.rs`;
    for (const name of CLIENTS) await seedClient(clients, `inferno-${name}`, { ...metadata, scope }, SECRET);
    await seedClient(clients, 'inferno-ehr', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'smart/launch' }, SECRET);
    smartConfiguration = (await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json()) as Record<string, unknown>;
  });
  afterAll(() => setup?.stop());

  const client = (name: InfernoClient) => new RawClient(setup.assent.url, `inferno-${name}`, REDIRECT, SECRET);
  const user = () => new BrowserlessUser(setup.assent.url);
  const fhirGet = (path: string, token: string) => fetch(`${fhirBase}${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
  const idsOf = async (response: Response) => ((await response.json()) as Bundle).entry?.map((e) => e.resource.id).sort() ?? [];
  const fhirServerIntrospects = (token: string) =>
    postForm(setup.assent.url, '/introspect', { token }, { Authorization: basicAuth('demo-fhir-server', setup.demo.address.fhirClientSecret) });

  async function standaloneLaunch(name: InfernoClient, scope = V2_SCOPES, options = {}) {
    const app = client(name);
    const { code, verifier, state, callback } = await app.code(user(), { scope, aud: fhirBase }, { ...ALICE, ...options });
    return { app, code, verifier, state, callback };
  }

  describe('SMART on FHIR discovery (smart_discovery_stu2_2)', () => {
    it('the FHIR server serves the smart-configuration as JSON, with the required fields and Assent’s endpoints', async () => {
      const response = await fetch(`${fhirBase}/.well-known/smart-configuration`, { headers: { Accept: 'text/html' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const assent = setup.assent.url;
      expect(smartConfiguration).toMatchObject({
        issuer: assent,
        jwks_uri: `${assent}/jwks`,
        authorization_endpoint: `${assent}/authorize`,
        token_endpoint: `${assent}/token`,
        introspection_endpoint: `${assent}/introspect`,
        revocation_endpoint: `${assent}/revoke`,
        code_challenge_methods_supported: ['S256'],
      });
      expect(smartConfiguration.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
      expect(smartConfiguration.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS384', 'ES384']));
    });

    it('lists every capability (g)(10) requires', () => {
      const required = ['launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric', 'sso-openid-connect',
        'context-banner', 'context-style', 'context-ehr-patient', 'context-standalone-patient', 'permission-offline', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2'];
      expect(smartConfiguration.capabilities).toEqual(expect.arrayContaining(required));
    });

    it('the OpenID configuration offers RS256 ID tokens and the JWKS holds an RSA key (smart_openid_connect)', async () => {
      const openid = (await (await fetch(`${setup.assent.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(openid.id_token_signing_alg_values_supported).toContain('RS256');
      const jwks = (await (await fetch(String(openid.jwks_uri))).json()) as { keys: { kty: string; alg?: string }[] };
      expect(jwks.keys.some((key) => key.kty === 'RSA' && key.alg === 'RS256')).toBe(true);
    });
  });

  describe('standalone launch, confidential symmetric client (smart_standalone_launch_stu2_2)', () => {
    let tokens: TokenSet & Record<string, unknown>;
    let response: Awaited<ReturnType<RawClient['exchange']>>;

    beforeAll(async () => {
      const { app, code, verifier } = await standaloneLaunch('standalone');
      response = await app.exchange(code, verifier);
      tokens = response.body as unknown as typeof tokens;
    });

    it('returns the code with the state Inferno sent, and iss (RFC 9207)', async () => {
      const { state, callback } = await standaloneLaunch('standalone');
      expect(callback.origin + callback.pathname).toBe(REDIRECT);
      expect(callback.searchParams.get('state')).toBe(state);
      expect(callback.searchParams.get('iss')).toBe(setup.assent.url);
    });

    it('answers the token request with every required field, no-store and no-cache', () => {
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('pragma')).toBe('no-cache');
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      expect(tokens.expires_in).toBeGreaterThan(0);
      expect(tokens.scope.split(' ').sort()).toEqual(V2_SCOPES.split(' ').sort());
      expect(tokens).toMatchObject({ patient: 'alice', id_token: expect.any(String), refresh_token: expect.any(String) });
    });

    it('the access token reads the patient in context from the FHIR server (patient_context)', async () => {
      const patient = await fhirGet(`/Patient/${String(tokens.patient)}`, tokens.access_token);
      expect(patient.status).toBe(200);
      expect(await patient.json()).toMatchObject({ resourceType: 'Patient', id: 'alice' });
    });

    it('the ID token is RS256, verifies against the JWKS of the OpenID configuration, and names the user (smart_openid_connect)', async () => {
      const idToken = tokens.id_token!;
      const header = decodeProtectedHeader(idToken);
      expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
      const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${setup.assent.url}/jwks`)), {
        issuer: setup.assent.url,
        audience: 'inferno-standalone',
        algorithms: ['RS256'],
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      expect(payload.fhirUser).toBe(`${fhirBase}/Patient/alice`);
      const person = await fhirGet(new URL(String(payload.fhirUser)).pathname.replace(/^\/fhir/, ''), tokens.access_token);
      expect(await person.json()).toMatchObject({ resourceType: 'Patient', id: 'alice' });
    });

    it('refresh without scope keeps scope and patient; refresh with scope gives that scope (smart_token_refresh)', async () => {
      const app = client('standalone');
      const unscoped = await app.refresh(tokens.refresh_token!);
      expect(unscoped.status).toBe(200);
      expect(unscoped.headers.get('cache-control')).toBe('no-store');
      expect(unscoped.body).toMatchObject({ token_type: 'Bearer', scope: tokens.scope, patient: 'alice', access_token: expect.any(String), refresh_token: expect.any(String) });
      const scoped = await app.refresh(String(unscoped.body.refresh_token), tokens.scope);
      expect(scoped.status).toBe(200);
      expect(String(scoped.body.scope).split(' ').sort()).toEqual(tokens.scope.split(' ').sort());
      expect((await fhirGet('/Patient/alice', String(scoped.body.access_token))).status).toBe(200);
    });

    it('the FHIR server’s introspection shows the token’s fields (token_introspection_stu2_2)', async () => {
      const answer = await fhirServerIntrospects(tokens.access_token);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        active: true,
        scope: tokens.scope,
        client_id: 'inferno-standalone',
        iss: setup.assent.url,
        sub: expect.any(String),
        exp: decodeJwt(tokens.access_token).exp,
        patient: 'alice',
        fhirUser: `${fhirBase}/Patient/alice`,
      });
      expect(await fhirServerIntrospects('not-a-token')).toMatchObject({ status: 200, body: { active: false } });
    });
  });

  describe('v1 scopes (smart_v1_scopes)', () => {
    it('v1 scopes requested are v1 scopes granted, and they read', async () => {
      const { app, code, verifier } = await standaloneLaunch('v1', V1_SCOPES);
      const tokens = await app.exchange(code, verifier);
      expect(String(tokens.body.scope).split(' ').sort()).toEqual(V1_SCOPES.split(' ').sort());
      expect((await fhirGet('/Condition?patient=alice', String(tokens.body.access_token))).status).toBe(200);
    });
  });

  describe('invalid aud (smart_app_launch_invalid_aud)', () => {
    it.each([['Inferno’s invalid aud', 'https://inferno.healthit.gov/invalid_aud'], ['no aud', undefined]])('%s: no code, no login asked', async (_name, aud) => {
      const result = await user().authorize(client('standalone').prepare({ scope: V2_SCOPES, aud }).url, ALICE);
      expect(result.seen).toEqual([]);
      expect(result.callback?.searchParams.get('code')).toBeNull();
      expect(result.callback?.searchParams.get('error')).toBe('invalid_request');
    });
  });

  describe('invalid launch (smart_invalid_launch)', () => {
    it('a launch Assent never issued gives no code', async () => {
      const result = await user().authorize(client('ehr-app').prepare({ scope: 'launch openid fhirUser patient/Patient.rs', launch: 'invalid-launch', aud: fhirBase }).url, DR_SMITH);
      expect(result.callback?.searchParams.get('code')).toBeNull();
      expect(result.callback?.searchParams.get('error')).toBe('invalid_request');
    });
  });

  describe('invalid PKCE code_verifier (g10_smart_invalid_pkce_code_verifier_group)', () => {
    it.each([
      ['no code_verifier', () => undefined],
      ['a blank code_verifier', () => ''],
      ['an incorrect code_verifier', () => `${crypto.randomUUID()}-${crypto.randomUUID()}`],
      ['the code_challenge as the code_verifier', (challenge: string) => challenge],
    ])('%s: 400 or 401, no token', async (_name, verifierFor) => {
      const { app, code, verifier } = await standaloneLaunch('pkce');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const response = await app.exchange(code, verifier, { code_verifier: verifierFor(challenge) });
      expect([400, 401]).toContain(response.status);
      expect(response.body.error).toMatch(/^invalid_(request|grant)$/);
      expect(response.body.access_token).toBeUndefined();
    });
  });

  describe('invalid token requests (smart_invalid_token_request_stu2)', () => {
    it('an invalid code: 400 invalid_grant', async () => {
      const { app, verifier } = await standaloneLaunch('standalone');
      expect(await app.exchange('INVALID_CODE', verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('an invalid client ID: 401 invalid_client, and the code still works for its own client', async () => {
      const { app, code, verifier } = await standaloneLaunch('standalone');
      const stranger = new RawClient(setup.assent.url, 'INVALID_CLIENT_ID', REDIRECT, SECRET);
      expect(await stranger.exchange(code, verifier)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect((await app.exchange(code, verifier)).status).toBe(200);
    });
  });

  describe('limited scopes at consent (smart_limited_app)', () => {
    it('a scope the patient unticks is not granted, and the FHIR server refuses that type', async () => {
      const kept = ['patient/Patient.rs', 'patient/Condition.rs', 'offline_access'];
      const { app, code, verifier } = await standaloneLaunch('limited', V2_SCOPES, { scopes: kept });
      const tokens = await app.exchange(code, verifier);
      const granted = String(tokens.body.scope).split(' ');
      expect(granted).not.toContain('patient/Observation.rs');
      expect(granted).toEqual(expect.arrayContaining(kept));
      const token = String(tokens.body.access_token);
      expect((await fhirGet('/Condition?patient=alice', token)).status).toBe(200);
      expect((await fhirGet('/Observation?patient=alice', token)).status).toBe(403);
    });
  });

  describe('granular scope selection (smart_granular_scope_selection)', () => {
    it('the patient narrows Observation to laboratory: the sub-scope is granted and only lab results are served', async () => {
      const { app, code, verifier } = await standaloneLaunch('granular', V2_SCOPES, { scopes: ['patient/Patient.rs', 'patient/Observation.rs', 'patient/Observation.rs laboratory'] });
      const tokens = await app.exchange(code, verifier);
      const granted = String(tokens.body.scope).split(' ');
      expect(granted).toContain(LAB);
      expect(granted).not.toContain('patient/Observation.rs');
      expect(await idsOf(await fhirGet('/Observation?patient=alice', String(tokens.body.access_token)))).toEqual(['alice-cholesterol', 'alice-hba1c']);
    });
  });

  describe('EHR launch, practitioner app (smart_ehr_practitioner_app)', () => {
    it('the launch context the EHR created comes back in the token response, with the practitioner as fhirUser', async () => {
      const ehrToken = await postForm(setup.assent.url, '/token', { grant_type: 'client_credentials', scope: 'smart/launch' }, { Authorization: basicAuth('inferno-ehr', SECRET) });
      const created = await fetch(`${setup.assent.url}/smart/launch`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${String(ehrToken.body.access_token)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ patient: 'alice', need_patient_banner: true, smart_style_url: 'https://ehr.example.org/style.json' }),
      });
      expect(created.status).toBe(201);
      const { launch } = (await created.json()) as { launch: string };
      const app = client('ehr-app');
      const { code, verifier } = await app.code(user(), { scope: 'launch openid fhirUser user/Patient.rs', launch, aud: fhirBase }, DR_SMITH);
      const tokens = await app.exchange(code, verifier);
      expect(tokens.body).toMatchObject({ patient: 'alice', need_patient_banner: true, smart_style_url: 'https://ehr.example.org/style.json' });
      expect(decodeJwt(String(tokens.body.id_token)).fhirUser).toBe(`${fhirBase}/Practitioner/smith`);
      expect((await fhirGet('/Patient/alice', String(tokens.body.access_token))).status).toBe(200);
    });
  });

  describe('token revocation (g10 token_revocation)', () => {
    it('a revoked refresh token no longer refreshes, and its access token no longer reads', async () => {
      const { app, code, verifier } = await standaloneLaunch('revocation');
      const tokens = (await app.exchange(code, verifier)).body as unknown as TokenSet;
      expect((await fhirGet('/Patient/alice', tokens.access_token)).status).toBe(200);
      const revoked = await app.call('/revoke', { token: tokens.refresh_token, token_type_hint: 'refresh_token' });
      expect(revoked.status).toBe(200);
      expect(await app.refresh(tokens.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const read = await fhirGet('/Patient/alice', tokens.access_token);
      expect(read.status).toBe(401);
      expect(read.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });
  });
});
