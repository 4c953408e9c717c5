import { hashPassword } from '../../server/crypto/password.js';
import type { ClientMetadata } from '../../server/store/repositories/clients.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { RawClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { seedClient } from '../support/clients.js';

const FHIR_BASE = 'https://fhir.example.org/r4';
const OTHER_BASE = 'https://other.example.org/fhir';
const APP_REDIRECT = 'http://localhost:4300/callback';
const PATIENT = { email: 'frank.introspect@example.org', fhirUser: 'Patient/frank' };

/**
 * Introspection by a FHIR server (SMART App Launch): a client registered with fhir_base_urls sees
 * the tokens issued for its bases, with their launch context, and no token of another audience.
 */
describe.each(storeBackends)('introspection by a FHIR server ($name store)', (backend) => {
  let server: TestServer;
  let fhirServer: RawClient;
  let otherServer: RawClient;
  let app: RawClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { ASSENT_FHIR_BASE_URLS: `${FHIR_BASE},${OTHER_BASE}` });
    const { accounts, clients } = server.services;
    await accounts.create({ ...PATIENT, name: 'Frank', emailVerified: true, passwordHash: await hashPassword(DEMO_PASSWORD) });
    const client = (id: string, metadata: Partial<ClientMetadata>, secret?: string) => seedClient(clients, id, metadata, secret);
    const resourceServer = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' as const, scope: 'uma_protection' };
    // Registered with a trailing slash: compared without it.
    await client('fhir-server', { ...resourceServer, fhir_base_urls: [`${FHIR_BASE}/`] }, 'fhir-secret');
    await client('other-fhir-server', { ...resourceServer, fhir_base_urls: [OTHER_BASE] }, 'other-secret');
    await client('introspect-app', { redirect_uris: [APP_REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid fhirUser launch/patient patient/*.rs' });
    fhirServer = new RawClient(server.url, 'fhir-server', undefined, 'fhir-secret');
    otherServer = new RawClient(server.url, 'other-fhir-server', undefined, 'other-secret');
    app = new RawClient(server.url, 'introspect-app', APP_REDIRECT);
  });
  afterAll(() => server?.stop());

  const issued = async (audience?: string, claims?: Record<string, unknown>) =>
    (await server.services.tokenService.issueAccessToken({ clientId: 'introspect-app', subject: 'someone', scopes: ['patient/*.rs'], ...(audience ? { audience } : {}), ...(claims ? { claims } : {}) })).token;

  it('sees a token issued for its base, with the launch context of a real standalone launch', async () => {
    const user = new BrowserlessUser(server.url);
    const tokens = await app.tokens(user, { scope: 'openid fhirUser launch/patient patient/*.rs', aud: FHIR_BASE }, { email: PATIENT.email, password: DEMO_PASSWORD });
    const account = await server.services.accounts.byEmail(PATIENT.email);
    expect(await fhirServer.introspect(tokens.access_token)).toMatchObject({
      active: true,
      iss: server.services.config.issuer,
      sub: account!._id,
      client_id: 'introspect-app',
      aud: FHIR_BASE,
      // Which SMART scopes are granted is part SCOPES's; the answer names the granted scope.
      scope: tokens.scope,
      exp: expect.any(Number),
      patient: 'frank',
      fhirUser: `${FHIR_BASE}/Patient/frank`,
    });
  });

  it('reports encounter and fhirContext when the token carries them', async () => {
    const fhirContext = [{ reference: 'Encounter/e-1' }];
    const token = await issued(FHIR_BASE, { patient: 'frank', encounter: 'e-1', fhirContext });
    expect(await fhirServer.introspect(token)).toMatchObject({ active: true, patient: 'frank', encounter: 'e-1', fhirContext });
  });

  it('sees nothing of a token for another FHIR base (active: false, nothing else)', async () => {
    const token = await issued(OTHER_BASE, { patient: 'frank' });
    expect(await fhirServer.introspect(token)).toEqual({ active: false });
    expect(await otherServer.introspect(token)).toMatchObject({ active: true, patient: 'frank' });
  });

  it('sees nothing of a token meant for the issuer; its own client still does', async () => {
    const token = await issued();
    expect(await fhirServer.introspect(token)).toEqual({ active: false });
    const owner = new RawClient(server.url, 'introspect-app', APP_REDIRECT);
    expect(await owner.introspect(token)).toMatchObject({ active: true, aud: server.services.config.issuer });
  });

  it('a token without SMART claims has none in the answer', async () => {
    const body = await fhirServer.introspect(await issued(FHIR_BASE));
    expect(body.active).toBe(true);
    for (const claim of ['patient', 'encounter', 'fhirContext', 'fhirUser']) expect(body).not.toHaveProperty(claim);
  });
});
