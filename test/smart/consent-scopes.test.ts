import { hashPassword } from '../../server/crypto/password.js';
import type { ClientMetadata } from '../../server/store/repositories/clients.js';
import { BrowserlessUser, consentChoices, formOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { basicAuth, postForm, RawClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { seedClient } from '../support/clients.js';

const FHIR_BASE = 'https://fhir.example.org/r4';
const APP_REDIRECT = 'http://localhost:4301/callback';
const LAB = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const VITALS = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';
/** One patient per test that grants, so no test sees another's earlier grant. */
const PATIENTS = ['fran', 'gus', 'hana', 'ivo'].map((id) => ({ email: `${id}.scopes@example.org`, fhirUser: `Patient/${id}`, name: id }));
const PATIENT = PATIENTS[0]!;
const REQUESTED = 'openid fhirUser launch/patient patient/Observation.rs patient/Condition.rs patient/MedicationStatement.c offline_access';

/**
 * SMART scopes at consent, on the wire: the page in plain language with the identity and launch
 * scopes locked, an unticked scope missing from the token, Observation narrowed to categories,
 * malformed scopes refused without a 500, and a Backend Services client's system/ scopes.
 */
describe.each(storeBackends)('SMART scopes at consent ($name store)', (backend) => {
  let server: TestServer;
  let app: RawClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { ASSENT_FHIR_BASE_URLS: FHIR_BASE });
    const { accounts, clients } = server.services;
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    for (const patient of PATIENTS) await accounts.create({ ...patient, emailVerified: true, passwordHash });
    const client = (id: string, metadata: Partial<ClientMetadata>, secret?: string) => seedClient(clients, id, metadata, secret);
    await client('scopes-app', { redirect_uris: [APP_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid fhirUser launch/patient patient/*.rs patient/MedicationStatement.cud offline_access' });
    await client('backend', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'system/Observation.rs' }, 'backend-secret');
    app = new RawClient(server.url, 'scopes-app', APP_REDIRECT);
  });
  afterAll(() => server?.stop());

  const smart = (scope = REQUESTED) => ({ scope, aud: FHIR_BASE });
  const signedIn = (who: number) => ({ user: new BrowserlessUser(server.url), options: { email: PATIENTS[who]!.email, password: DEMO_PASSWORD } });

  /** Opens the request and signs in; the consent page it ends on. */
  async function consentPage(user: BrowserlessUser, scope: string): Promise<Page> {
    const login = await user.follow(await user.get(app.prepare(smart(scope)).url));
    const form = formOf(login, /\/login$/);
    return user.follow(await user.post(form.action, [...hiddenFields(form), ['email', PATIENT.email], ['password', DEMO_PASSWORD]]));
  }

  it('shows SMART scopes in plain language, identity and launch scopes locked, categories and offline access explained', async () => {
    const page = await consentPage(new BrowserlessUser(server.url), `${REQUESTED} patient/.rs patient/Observation.xyz patient/Genome.rs`);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Read your observations');
    expect(text).toContain('Add to your medications');
    expect(text).toContain('lab results');
    expect(text).toContain('keeps access until you revoke it');
    const form = formOf(page, /\/consent$/);
    expect(consentChoices(form)).toEqual({
      optional: ['offline_access', 'patient/Condition.rs', 'patient/MedicationStatement.c', 'patient/Observation.rs'],
      mandatory: ['fhirUser', 'launch/patient', 'openid'],
    });
    const categories = form.inputs.filter((i) => i.name === 'category').map((i) => i.value);
    expect(categories).toContain('patient/Observation.rs laboratory');
    expect(categories).toHaveLength(9);
    for (const malformed of ['patient/.rs', 'patient/Observation.xyz', 'patient/Genome.rs']) expect(text).toContain(`${malformed} : not a well-formed SMART scope`);
  });

  it('leaves an unticked scope out of the token', async () => {
    const { user, options } = signedIn(1);
    const tokens = await app.tokens(user, smart(), { ...options, scopes: ['patient/Observation.rs', 'offline_access'] });
    expect(tokens.scope.split(' ').sort()).toEqual(['fhirUser', 'launch/patient', 'offline_access', 'openid', 'patient/Observation.rs']);
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('narrows Observation to the categories ticked, and offline access is the patient’s choice', async () => {
    const { user, options } = signedIn(2);
    const tokens = await app.tokens(user, smart(), { ...options, scopes: ['patient/Observation.rs', 'patient/Observation.rs laboratory', 'patient/Observation.rs vital-signs'] });
    expect(tokens.scope.split(' ').sort()).toEqual(['fhirUser', 'launch/patient', 'openid', LAB, VITALS]);
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('refuses a request of only malformed scopes with invalid_scope, not a 500', async () => {
    const { user, options } = signedIn(3);
    const result = await user.authorize(app.prepare(smart('patient/.rs patient/Observation.xyz user/Nope.rs')).url, options);
    expect(result.callback?.searchParams.get('error')).toBe('invalid_scope');
  });

  it('grants a Backend Services client its registered system/ scopes, narrowed or whole, without a user', async () => {
    const backend = basicAuth('backend', 'backend-secret');
    const whole = await postForm(server.url, '/token', { grant_type: 'client_credentials', scope: 'system/Observation.rs' }, { Authorization: backend });
    expect(whole).toMatchObject({ status: 200, body: { scope: 'system/Observation.rs' } });
    const narrowed = await postForm(server.url, '/token', { grant_type: 'client_credentials', scope: 'system/Observation.r?category=x|laboratory' }, { Authorization: backend });
    expect(narrowed).toMatchObject({ status: 200, body: { scope: 'system/Observation.r?category=x|laboratory' } });
    const defaults = await postForm(server.url, '/token', { grant_type: 'client_credentials' }, { Authorization: backend });
    expect(defaults).toMatchObject({ status: 200, body: { scope: 'system/Observation.rs' } });
    for (const scope of ['system/Observation.cruds', 'system/Patient.rs', 'patient/Observation.rs', 'system/.rs']) {
      const refused = await postForm(server.url, '/token', { grant_type: 'client_credentials', scope }, { Authorization: backend });
      expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    }
  });
});
