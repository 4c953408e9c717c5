import { startDemoWithAssent, type DemoWithAssent } from '../support/demo.js';
import { storeBackends } from '../support/stores.js';

/** The demo FHIR server over HTTP beside the real Assent: discovery, the app's files, and its refusals of missing and foreign tokens. */
describe.each(storeBackends)('demo FHIR server over HTTP ($name store)', (backend) => {
  let setup: DemoWithAssent;
  let base: string;
  beforeAll(async () => {
    setup = await startDemoWithAssent(backend);
    base = setup.demo.address.base;
  });
  afterAll(() => setup?.stop());

  const get = (path: string, token?: string) => fetch(`${base}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it('answers a read without a token 401 with a Bearer challenge naming its realm', async () => {
    const response = await get('/Patient/alice');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="assent-demo-fhir"');
    expect(await response.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('answers a token Assent does not know 401 invalid_token', async () => {
    const response = await get('/Observation?patient=alice', 'not-a-token');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="assent-demo-fhir", error="invalid_token"/);
  });

  it('answers a real Assent token meant for another audience 401 invalid_token (introspection does not show it to this server)', async () => {
    const { token } = await setup.assent.services.tokenService.issueAccessToken({ clientId: 'demo-app', subject: 'someone', scopes: ['openid', 'patient/*.rs'] });
    const response = await get('/Patient/alice', token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('serves its CapabilityStatement without a token, pointing at Assent', async () => {
    const response = await get('/metadata');
    expect(response.status).toBe(200);
    const statement = (await response.json()) as { resourceType: string; fhirVersion: string; rest: { security: { extension: { extension: { url: string; valueUri: string }[] }[] } }[] };
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
    expect(statement.rest[0]!.security.extension[0]!.extension).toContainEqual({ url: 'authorize', valueUri: `${setup.assent.url}/authorize` });
  });

  it("relays Assent's /.well-known/smart-configuration at its own base, CORS open", async () => {
    const [own, assent] = await Promise.all([get('/.well-known/smart-configuration'), fetch(`${setup.assent.url}/.well-known/smart-configuration`)]);
    expect(own.status).toBe(assent.status);
    expect(own.headers.get('access-control-allow-origin')).toBe('*');
    expect(await own.text()).toBe(await assent.text());
  });

  it('serves the SMART app page and fhirclient from node_modules (no CDN)', async () => {
    const page = await fetch(setup.demo.address.appUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="fhir-client.js"></script>');
    expect(html).not.toMatch(/src="https?:/);
    const library = await fetch(`${setup.demo.address.appUrl}fhir-client.js`);
    expect(library.status).toBe(200);
    expect(await library.text()).toContain('oauth2');
  });
});
