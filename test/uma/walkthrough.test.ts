import { hashPassword } from '../../server/crypto/password.js';
import type { SharingRule } from '../../server/store/repositories/sharing-rules.js';
import type { RefreshTokenDocument } from '../../server/store/repositories/tokens.js';
import { UMA_TICKET_GRANT as UMA_GRANT } from '../../server/uma/grant.js';
import { ID_TOKEN_FORMAT } from '../../server/uma/requesting-party.js';
import type { AccessRequestDocument, PctDocument } from '../../server/store/repositories/uma-requests.js';
import { BrowserlessUser, DEMO_EMAIL, formOf, formsOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { basicAuth, postForm, randomValue, RawClient, type JsonResponse } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { httpProtection, UmaResourceServer, type HeldResource } from '../support/uma-resource-server.js';

/**
 * The HIE of One walkthrough, end to end over HTTP: a patient (the seeded demo patient, Alice)
 * connects a FHIR resource server to Assent (code flow, `uma_protection`), which registers her
 * Patient and MedicationStatement resources; physicians' apps then meet `401 UMA …ticket`, go to
 * the token endpoint with the `uma-ticket` grant, are sent through claims interaction (or push an
 * ID token, or a PCT), and read what Alice's sharing rules — or her answer to their request — let
 * them read. Also the legacy HIE of One endpoints (`/rqp_claims`, `/authz_request` with an AAT).
 */

const CLINIC_CALLBACK = 'http://localhost:4300/callback';
const CLINIC_CLAIMS = 'http://localhost:4300/claims';
const PATIENT = '/fhir/Patient/alice';
const MEDS = '/fhir/MedicationStatement';

const RESOURCES: HeldResource[] = [
  {
    path: PATIENT,
    type: 'Patient',
    name: 'Demographics',
    body: { resourceType: 'Patient', id: 'alice', name: [{ family: 'Demo', given: ['Alice'] }], birthDate: '1970-01-01' },
  },
  {
    path: MEDS,
    type: 'MedicationStatement',
    name: 'Medication list',
    body: {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: { resourceType: 'MedicationStatement', id: 'med-1', status: 'active', subject: { reference: 'Patient/alice' }, medicationCodeableConcept: { text: 'Lisinopril 10 mg tablet' } } }],
    },
  },
];
const bodyOf = (path: string) => RESOURCES.find((r) => r.path === path)!.body;

interface Registered {
  id: string;
  secret: string;
  /** RFC 7592 registration access token. */
  registrationToken: string;
}

interface Physician {
  id: string;
  email: string;
  password: string;
  user: BrowserlessUser;
}

describe.each(storeBackends)('the HIE of One walkthrough on the $name store', (backend) => {
  let server: TestServer;
  let alice: BrowserlessUser;
  let ownerId: string;
  let rulesToken: string;
  let fhir: UmaResourceServer;
  let clinic: Registered;
  let otherClinic: Registered;
  // White-box: the stored access requests themselves.
  const storedRequests = () => server.services.store.collection<AccessRequestDocument>('uma_requests');

  beforeAll(async () => {
    server = await startTestServer(backend);
    ownerId = (await server.services.accounts.byEmail(DEMO_EMAIL))!._id;
    alice = new BrowserlessUser(server.url);

    // Alice connects her FHIR server: it gets a PAT and registers her two resources.
    const secret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;
    fhir = await UmaResourceServer.start({
      asUrl: server.url,
      clientId: 'demo-resource-server',
      secret,
      redirectUri: 'http://localhost:4100/callback',
      resources: RESOURCES,
      protection: httpProtection(server.url),
    });
    await fhir.connect(alice);

    // Alice's own app for her sharing rules (scope sharing_rules).
    const rulesApp = await register({ client_name: 'Alice’s sharing app', redirect_uris: ['http://localhost:4600/callback'], grant_types: ['authorization_code'], scope: 'openid sharing_rules' });
    rulesToken = (await new RawClient(server.url, rulesApp.id, 'http://localhost:4600/callback', rulesApp.secret).tokens(alice, { scope: 'openid sharing_rules' })).access_token;

    // The physicians' EHR app, registered dynamically for the UMA grant with a claims redirection URI.
    const clinicMetadata = {
      grant_types: ['authorization_code', UMA_GRANT, 'client_credentials', 'refresh_token'],
      redirect_uris: [CLINIC_CALLBACK],
      claims_redirect_uris: [CLINIC_CLAIMS],
      scope: 'openid profile email uma_authorization',
    };
    clinic = await register({ client_name: 'Clinic EHR', ...clinicMetadata });
    otherClinic = await register({ client_name: 'Another EHR', ...clinicMetadata });
  });

  afterAll(async () => {
    await fhir?.close();
    await server?.stop();
  });

  async function register(metadata: Record<string, unknown>): Promise<Registered> {
    const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(metadata) });
    const body = (await response.json()) as { client_id: string; client_secret: string; registration_access_token: string };
    expect(response.status).toBe(201);
    return { id: body.client_id, secret: body.client_secret, registrationToken: body.registration_access_token };
  }

  async function physician(name = 'Dr Test'): Promise<Physician> {
    const email = `dr-${randomValue().toLowerCase().replace(/[^a-z0-9]/g, '')}@clinic.example`;
    const password = randomValue();
    const account = await server.services.accounts.create({ email, name, emailVerified: true, passwordHash: await hashPassword(password) });
    return { id: account._id, email, password, user: new BrowserlessUser(server.url) };
  }

  /** Alice adds a sharing rule through her rules API. */
  async function rule(rule: Omit<SharingRule, 'id'>): Promise<SharingRule> {
    const full = { id: randomValue().replace(/[^A-Za-z0-9_-]/g, '_'), ...rule } as SharingRule;
    const response = await fetch(`${server.url}/uma/rules`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${rulesToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(full),
    });
    expect({ status: response.status, body: response.status === 201 ? undefined : await response.text() }).toEqual({ status: 201, body: undefined });
    return full;
  }
  const allow = (email: string, types: string[], conditions?: SharingRule['conditions']) =>
    rule({ effect: 'allow', grantee: { email }, resources: { types }, scopes: ['read'], ...(conditions ? { conditions } : {}) });

  /** The uma-ticket grant at the token endpoint, as a client. */
  const grant = (form: Record<string, string | undefined>, client: Registered = clinic) =>
    postForm(server.url, '/token', { grant_type: UMA_GRANT, ...form }, { Authorization: basicAuth(client.id, client.secret) });

  /** The legacy RPT endpoint with an AAT. */
  async function authzRequest(aat: string | undefined, body: Record<string, unknown>): Promise<JsonResponse> {
    const response = await fetch(`${server.url}/authz_request`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(aat ? { Authorization: `Bearer ${aat}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function aat(client: Registered = clinic): Promise<string> {
    const response = await postForm(server.url, '/token', { grant_type: 'client_credentials', scope: 'uma_authorization' }, { Authorization: basicAuth(client.id, client.secret) });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('uma_authorization');
    return response.body.access_token as string;
  }

  function expectUmaError(response: JsonResponse, status: number, error: string) {
    expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body.access_token).toBeUndefined();
  }

  /** A client's read without an RPT: 401 with a UMA challenge naming Assent and a ticket. */
  async function ticketFor(path: string): Promise<string> {
    const read = await fhir.read(path);
    expect(read.status).toBe(401);
    expect(read.asUri).toBe(server.url);
    expect(read.ticket).toBeTruthy();
    return read.ticket!;
  }

  function claimsUrl(params: Record<string, string | undefined>, endpoint = '/uma/claims'): URL {
    const url = new URL(endpoint, server.url);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
    return url;
  }

  /**
   * The requesting party at the claims interaction endpoint: signs in (or, already signed in,
   * presses Continue) and is sent back to the clinic's claims redirection URI.
   */
  async function gatherClaims(doc: Physician, ticket: string, options: { endpoint?: string; client?: Registered } = {}): Promise<{ callback: URL; state: string }> {
    const state = randomValue();
    const url = claimsUrl({ client_id: (options.client ?? clinic).id, ticket, claims_redirect_uri: CLINIC_CLAIMS, state }, options.endpoint);
    let page = await doc.user.follow(await doc.user.get(url));
    const form = formOf(page);
    if (/\/login$/.test(form.action.pathname)) {
      page = await doc.user.post(form.action, [...hiddenFields(form), ['email', doc.email], ['password', doc.password]]);
    } else {
      expect(form.action.pathname).toMatch(/\/confirm$/);
      page = await doc.user.post(form.action, [...hiddenFields(form), ['decision', 'continue']]);
    }
    expect(page.status).toBe(303);
    const callback = page.location!;
    expect(`${callback.origin}${callback.pathname}`).toBe(CLINIC_CLAIMS);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('error')).toBeNull();
    return { callback, state };
  }

  /** need_info → claims interaction: the ticket that now carries the physician's claims. */
  async function identified(doc: Physician, path: string, client: Registered = clinic): Promise<string> {
    const needInfo = await grant({ ticket: await ticketFor(path) }, client);
    expectUmaError(needInfo, 403, 'need_info');
    const { callback } = await gatherClaims(doc, needInfo.body.ticket as string, { client });
    return callback.searchParams.get('ticket')!;
  }

  /** The full walk to an RPT for one resource (must be granted). */
  async function rptFor(doc: Physician, path: string): Promise<{ rpt: string; pct: string }> {
    const granted = await grant({ ticket: await identified(doc, path) });
    expect(granted.status).toBe(200);
    return { rpt: granted.body.access_token as string, pct: granted.body.pct as string };
  }

  /** Alice approves (once) the pending request of this physician on her sharing dashboard. */
  async function approve(doc: Physician) {
    const pending = (await server.services.uma.requests.pendingFor(ownerId)).filter((r) => r.requestingParty.sub === doc.id);
    expect(pending).toHaveLength(1);
    const requestId = pending[0]!._id;
    // Alice's browser session: she signed in to connect her FHIR server.
    const page = await alice.get('/account/sharing');
    expect(page.status).toBe(200);
    const form = formsOf(page).find((f) => f.action.pathname === '/account/sharing/requests' && f.inputs.some((i) => i.name === 'request_id' && i.value === requestId));
    expect(form).toBeDefined();
    const answer = await alice.post(form!.action, [...hiddenFields(form!), ['decision', 'once']]);
    expect(answer.status).toBe(303);
    expect(await (await storedRequests()).findOne({ _id: requestId })).toMatchObject({ status: 'approved' });
  }

  describe('deleting a client (RFC 7592 §2.3)', () => {
    test('takes back everything it was issued, at once: its RPT introspects inactive at the resource server, its tokens, grants and PCTs are gone', async () => {
      const doc = await physician('Dr Leaving');
      await allow(doc.email, ['MedicationStatement']);
      const app = await register({ client_name: 'Short-lived EHR', grant_types: ['authorization_code', UMA_GRANT, 'refresh_token'], redirect_uris: [CLINIC_CALLBACK], claims_redirect_uris: [CLINIC_CLAIMS], scope: 'openid offline_access' });
      const granted = await grant({ ticket: await identified(doc, MEDS, app) }, app);
      expect(granted.status).toBe(200);
      const rpt = granted.body.access_token as string;
      expect((await fhir.read(MEDS, rpt)).status).toBe(200);
      // Alice signs in to the app too: an access token, a refresh token and her grant to it.
      const raw = new RawClient(server.url, app.id, CLINIC_CALLBACK, app.secret);
      const tokens = await raw.tokens(alice, { scope: 'openid offline_access' });
      expect(tokens.refresh_token).toEqual(expect.any(String));
      expect((await server.services.grants.forAccount(ownerId)).map((g) => g.clientId)).toContain(app.id);

      const deleted = await fetch(`${server.url}/register/${app.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${app.registrationToken}` } });
      expect(deleted.status).toBe(204);

      expect(await fhir.client.introspect(rpt)).toEqual({ active: false });
      expect((await fhir.read(MEDS, rpt)).status).toBe(401);
      expect(await server.services.tokenService.verifyAccessToken(tokens.access_token)).toBeUndefined();
      expect((await raw.refresh(tokens.refresh_token!)).body.error).toBe('invalid_client');
      const refreshTokens = await (await server.services.store.collection<RefreshTokenDocument>('refresh_tokens')).find({ clientId: app.id });
      expect(refreshTokens.length).toBeGreaterThan(0);
      expect(refreshTokens.every((t) => t.revokedAt instanceof Date)).toBe(true);
      expect((await server.services.grants.forAccount(ownerId)).map((g) => g.clientId)).not.toContain(app.id);
      expect(await (await server.services.store.collection<PctDocument>('uma_pcts')).count({ clientId: app.id })).toBe(0);
    });
  });

  describe('the UMA 2.0 flow', () => {
    test('a physician an allow rule names reads the medication list: 401 ticket → need_info → claims interaction → RPT → read', async () => {
      const doc = await physician('Dr Allowed');
      await allow(doc.email, ['MedicationStatement']);

      const first = await fhir.read(MEDS);
      expect(first).toMatchObject({ status: 401, asUri: server.url, realm: expect.any(String), body: undefined });

      const needInfo = await grant({ ticket: first.ticket });
      expectUmaError(needInfo, 403, 'need_info');
      expect(needInfo.body.ticket).toEqual(expect.any(String));
      expect(needInfo.body.ticket).not.toBe(first.ticket);
      expect(needInfo.body.redirect_user).toBe(`${server.url}/uma/claims`);
      expect(needInfo.body.required_claims).toEqual([expect.objectContaining({ claim_token_format: [ID_TOKEN_FORMAT] })]);
      // need_info spent the first ticket.
      expectUmaError(await grant({ ticket: first.ticket }), 400, 'invalid_grant');

      const { callback } = await gatherClaims(doc, needInfo.body.ticket as string);
      expect(callback.searchParams.get('authorization_state')).toBe('claims_submitted');
      const gathered = callback.searchParams.get('ticket')!;
      expect(gathered).not.toBe(needInfo.body.ticket);
      // The claims interaction spent the ticket it was given.
      expectUmaError(await grant({ ticket: needInfo.body.ticket as string }), 400, 'invalid_grant');

      const granted = await grant({ ticket: gathered });
      expect(granted.status).toBe(200);
      expect(granted.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), pct: expect.any(String) });

      const read = await fhir.read(MEDS, granted.body.access_token as string);
      expect(read).toMatchObject({ status: 200, body: bodyOf(MEDS) });
      const introspected = fhir.introspections.at(-1)!;
      expect(introspected).toMatchObject({ active: true, sub: doc.id, client_id: clinic.id, aud: 'demo-resource-server' });
      expect(introspected.permissions).toEqual([{ resource_id: fhir.idOf(MEDS), resource_scopes: ['read'], exp: expect.any(Number) }]);
    });

    test('the owner herself, signing in at claims gathering for her own record, gets the RPT at once: nothing to approve', async () => {
      const herself: Physician = { id: ownerId, email: DEMO_EMAIL, password: DEMO_PASSWORD, user: new BrowserlessUser(server.url) };
      const granted = await grant({ ticket: await identified(herself, PATIENT) });
      expect(granted.status).toBe(200);
      expect(await fhir.read(PATIENT, granted.body.access_token as string)).toMatchObject({ status: 200, body: bodyOf(PATIENT) });
      expect(fhir.introspections.at(-1)).toMatchObject({ active: true, sub: ownerId, permissions: [{ resource_id: fhir.idOf(PATIENT), resource_scopes: ['read'], exp: expect.any(Number) }] });
      expect(await (await storedRequests()).count({ ownerId, 'requestingParty.sub': ownerId })).toBe(0);
      const [decision] = await server.services.decisions.ofOwner(ownerId, 'claims', 1);
      expect(decision?.input).toMatchObject({ requesting_party: { iss: server.url, sub: ownerId }, requesting_account: { sub: ownerId } });
      expect(decision?.result).toMatchObject({ outcome: 'grant', because: ['owner'] });
    });

    test('with no rule the request is submitted; once the owner approves, the same ticket gets the RPT', async () => {
      const doc = await physician('Dr Unknown');
      const ticket = await identified(doc, MEDS);

      const submitted = await grant({ ticket });
      expectUmaError(submitted, 403, 'request_submitted');
      expect(submitted.body).toMatchObject({ ticket, interval: expect.any(Number) });
      // Polling before the owner answers: the same answer, the same ticket, one pending request.
      expect((await grant({ ticket })).body).toMatchObject({ error: 'request_submitted', ticket });

      await approve(doc);
      const granted = await grant({ ticket });
      expect(granted.status).toBe(200);
      expect(await fhir.read(MEDS, granted.body.access_token as string)).toMatchObject({ status: 200, body: bodyOf(MEDS) });
      // Spent now.
      expectUmaError(await grant({ ticket }), 400, 'invalid_grant');
    });

    test('a deny rule beats an allow rule', async () => {
      const doc = await physician('Dr Denied');
      await rule({ effect: 'allow', grantee: { email: doc.email }, resources: { types: ['Patient', 'MedicationStatement'] } });
      await rule({ effect: 'deny', grantee: { email: doc.email }, resources: { types: ['MedicationStatement'] } });
      const ticket = await identified(doc, MEDS);
      expectUmaError(await grant({ ticket }), 403, 'request_denied');
      expectUmaError(await grant({ ticket }), 400, 'invalid_grant');
      expect(await (await storedRequests()).count({ 'requestingParty.sub': doc.id })).toBe(0);
    });

    test('an expired rule does not grant: the owner is asked instead', async () => {
      const doc = await physician('Dr Expired');
      await allow(doc.email, ['MedicationStatement'], { valid_until: new Date(Date.now() - 60_000).toISOString() });
      const ticket = await identified(doc, MEDS);
      const answer = await grant({ ticket });
      expectUmaError(answer, 403, 'request_submitted');
      expect(await (await storedRequests()).count({ 'requestingParty.sub': doc.id, status: 'pending' })).toBe(1);
    });

    test('a ticket is good for one RPT: reusing it is invalid_grant', async () => {
      const doc = await physician('Dr Twice');
      await allow(doc.email, ['MedicationStatement']);
      const ticket = await identified(doc, MEDS);
      expect((await grant({ ticket })).status).toBe(200);
      expectUmaError(await grant({ ticket }), 400, 'invalid_grant');
      expectUmaError(await grant({ ticket: 'not-a-ticket' }), 400, 'invalid_grant');
    });

    test('an RPT for one resource does not open another', async () => {
      const doc = await physician('Dr Meds Only');
      await allow(doc.email, ['MedicationStatement']);
      const { rpt, pct } = await rptFor(doc, MEDS);
      expect((await fhir.read(MEDS, rpt)).status).toBe(200);

      const patient = await fhir.read(PATIENT, rpt);
      expect(patient).toMatchObject({ status: 401, body: undefined });
      expect(patient.ticket).toBeTruthy();
      // Asking for the Patient resource with that ticket, the RPT and the PCT: nothing allows it, so the owner is asked.
      expectUmaError(await grant({ ticket: patient.ticket, pct, rpt }), 403, 'request_submitted');
    });

    test('a resource server cannot introspect (or be opened by) another resource server’s RPTs', async () => {
      const other = await register({ client_name: 'Other FHIR server', redirect_uris: ['http://localhost:4500/callback'], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid uma_protection offline_access' });
      const fhirY = await UmaResourceServer.start({ asUrl: server.url, clientId: other.id, secret: other.secret, redirectUri: 'http://localhost:4500/callback', resources: RESOURCES, protection: httpProtection(server.url) });
      try {
        await fhirY.connect(alice);
        const doc = await physician('Dr Two Servers');
        await allow(doc.email, ['MedicationStatement']);
        const { rpt, pct } = await rptFor(doc, MEDS);

        expect(await fhirY.client.introspect(rpt)).toEqual({ active: false });
        expect(await fhir.client.introspect(rpt)).toMatchObject({ active: true });
        const atY = await fhirY.read(MEDS, rpt);
        expect(atY).toMatchObject({ status: 401, ticket: expect.any(String) });
        // Nor does X's RPT carry its permissions into an upgrade for Y.
        expectUmaError(await grant({ ticket: atY.ticket, pct, rpt }), 400, 'invalid_grant');
        const ownRpt = await grant({ ticket: atY.ticket, pct });
        expect(ownRpt.status).toBe(200);
        expect(await fhirY.read(MEDS, ownRpt.body.access_token as string)).toMatchObject({ status: 200 });
        expect(await fhir.read(MEDS, ownRpt.body.access_token as string)).toMatchObject({ status: 401 });
      } finally {
        await fhirY.close();
      }
    });

    test('an ID token pushed as claim_token identifies the physician without any redirect', async () => {
      const doc = await physician('Dr Pushed');
      await allow(doc.email, ['MedicationStatement']);
      const signIn = await new RawClient(server.url, clinic.id, CLINIC_CALLBACK, clinic.secret).tokens(doc.user, { scope: 'openid email profile' }, { email: doc.email, password: doc.password });

      const granted = await grant({ ticket: await ticketFor(MEDS), claim_token: signIn.id_token, claim_token_format: ID_TOKEN_FORMAT });
      expect(granted.status).toBe(200);
      expect(await fhir.read(MEDS, granted.body.access_token as string)).toMatchObject({ status: 200, body: bodyOf(MEDS) });

      // An ID token issued to another client is not this client's to push.
      const elsewhere = await new RawClient(server.url).tokens(doc.user, { scope: 'openid email' });
      expectUmaError(await grant({ ticket: await ticketFor(MEDS), claim_token: elsewhere.id_token, claim_token_format: ID_TOKEN_FORMAT }), 400, 'invalid_grant');
    });

    test('a PCT from a first grant identifies the physician on the next one (for that client only)', async () => {
      const doc = await physician('Dr Returning');
      await allow(doc.email, ['MedicationStatement']);
      const { pct } = await rptFor(doc, MEDS);

      const again = await grant({ ticket: await ticketFor(MEDS), pct });
      expect(again.status).toBe(200);
      expect(await fhir.read(MEDS, again.body.access_token as string)).toMatchObject({ status: 200 });

      expectUmaError(await grant({ ticket: await ticketFor(MEDS), pct }, otherClinic), 400, 'invalid_grant');
    });
  });

  describe('the claims interaction endpoint', () => {
    const expectErrorPage = (page: Page, status: number) => {
      expect(page.status).toBe(status);
      expect(page.location).toBeUndefined();
      expect(page.headers.get('content-type')).toContain('text/html');
    };

    test('an unknown client or an unregistered claims redirection URI gets an error page, never a redirect', async () => {
      const user = new BrowserlessUser(server.url);
      const ticket = await ticketFor(MEDS);
      expectErrorPage(await user.get(claimsUrl({ client_id: 'no-such-client', ticket, claims_redirect_uri: CLINIC_CLAIMS, state: 's' })), 400);
      for (const claims_redirect_uri of [`${CLINIC_CLAIMS}/elsewhere`, 'https://attacker.example/claims', CLINIC_CALLBACK]) {
        expectErrorPage(await user.get(claimsUrl({ client_id: clinic.id, ticket, claims_redirect_uri, state: 's' })), 400);
      }
      expectErrorPage(await user.get(claimsUrl({ ticket, claims_redirect_uri: CLINIC_CLAIMS })), 400);
      // A client with no claims redirection URI registered cannot use the endpoint at all.
      const bare = await register({ client_name: 'No claims URI', grant_types: [UMA_GRANT], redirect_uris: [] });
      expectErrorPage(await user.get(claimsUrl({ client_id: bare.id, ticket })), 400);
      // The ticket was not touched.
      expectUmaError(await grant({ ticket }), 403, 'need_info');
    });

    test('an unknown, spent or missing ticket goes back to the client as invalid_request, with its state', async () => {
      const user = new BrowserlessUser(server.url);
      const spent = await ticketFor(MEDS);
      await grant({ ticket: spent });
      for (const ticket of ['no-such-ticket', spent, undefined]) {
        const page = await user.get(claimsUrl({ client_id: clinic.id, ticket, claims_redirect_uri: CLINIC_CLAIMS, state: 'xyz' }));
        expect(page.status).toBe(303);
        expect(`${page.location!.origin}${page.location!.pathname}`).toBe(CLINIC_CLAIMS);
        expect(page.location!.searchParams.get('error')).toBe('invalid_request');
        expect(page.location!.searchParams.get('state')).toBe('xyz');
        expect(page.location!.searchParams.get('ticket')).toBeNull();
      }
    });

    test('claims_redirect_uri may be left out when the client registered exactly one', async () => {
      const doc = await physician('Dr Default URI');
      const needInfo = await grant({ ticket: await ticketFor(MEDS) });
      const page = await doc.user.follow(await doc.user.get(claimsUrl({ client_id: clinic.id, ticket: needInfo.body.ticket as string })));
      const form = formOf(page, /\/login$/);
      const back = await doc.user.post(form.action, [...hiddenFields(form), ['email', doc.email], ['password', doc.password]]);
      expect(`${back.location!.origin}${back.location!.pathname}`).toBe(CLINIC_CLAIMS);
      expect(back.location!.searchParams.get('ticket')).toBeTruthy();
      expect(back.location!.searchParams.has('state')).toBe(false);
    });

    test('a wrong password shows the sign-in form again and sends nobody anywhere', async () => {
      const doc = await physician('Dr Typo');
      const needInfo = await grant({ ticket: await ticketFor(MEDS) });
      const page = await doc.user.follow(await doc.user.get(claimsUrl({ client_id: clinic.id, ticket: needInfo.body.ticket as string, claims_redirect_uri: CLINIC_CLAIMS })));
      const form = formOf(page, /\/login$/);
      const wrong = await doc.user.post(form.action, [...hiddenFields(form), ['email', doc.email], ['password', 'not the password']]);
      expect(wrong.status).toBe(401);
      expect(wrong.location).toBeUndefined();
      expect(textOf(wrong.html)).toContain('Wrong email or password');
      // The same interaction still works.
      const right = await doc.user.post(formOf(wrong, /\/login$/).action, [...hiddenFields(formOf(wrong, /\/login$/)), ['email', doc.email], ['password', doc.password]]);
      expect(right.status).toBe(303);
      expect(right.location!.searchParams.get('ticket')).toBeTruthy();
    });

    test('a signed-in party must press Continue: a drive-by redirect does not attach their identity', async () => {
      const doc = await physician('Dr Signed In');
      await allow(doc.email, ['MedicationStatement']);
      await rptFor(doc, MEDS); // signs in once
      const needInfo = await grant({ ticket: await ticketFor(MEDS) });
      const page = await doc.user.follow(await doc.user.get(claimsUrl({ client_id: clinic.id, ticket: needInfo.body.ticket as string, claims_redirect_uri: CLINIC_CLAIMS, state: 's1' })));
      expect(page.status).toBe(200);
      expect(page.location).toBeUndefined();
      expect(textOf(page.html)).toContain(doc.email);
      const form = formOf(page, /\/confirm$/);

      // A forged submission (no CSRF token) is refused.
      const forged = await doc.user.post(form.action, [['decision', 'continue'], ['account', doc.id]]);
      expectErrorPage(forged, 403);
      // Another browser cannot use this interaction even with the token.
      const stranger = new BrowserlessUser(server.url);
      expectErrorPage(await stranger.post(form.action, [...hiddenFields(form), ['decision', 'continue']]), 400);

      const confirmed = await doc.user.post(form.action, [...hiddenFields(form), ['decision', 'continue']]);
      expect(confirmed.status).toBe(303);
      expect(confirmed.location!.searchParams.get('state')).toBe('s1');
      const granted = await grant({ ticket: confirmed.location!.searchParams.get('ticket')! });
      expect(granted.status).toBe(200);
      // The interaction is over: submitting again is an error page.
      expectErrorPage(await doc.user.post(form.action, [...hiddenFields(form), ['decision', 'continue']]), 400);
    });

    test('"use another account" and "cancel"', async () => {
      const doc = await physician('Dr Shared Computer');
      const colleague = await physician('Dr Colleague');
      await allow(colleague.email, ['MedicationStatement']);
      await identified(doc, MEDS); // doc is signed in on this browser

      // Cancel: back to the client with access_denied; the ticket is left as it was.
      let ticket = (await grant({ ticket: await ticketFor(MEDS) })).body.ticket as string;
      let page = await doc.user.follow(await doc.user.get(claimsUrl({ client_id: clinic.id, ticket, claims_redirect_uri: CLINIC_CLAIMS, state: 'c' })));
      let form = formOf(page, /\/confirm$/);
      const cancelled = await doc.user.post(form.action, [...hiddenFields(form), ['decision', 'cancel']]);
      expect(cancelled.status).toBe(303);
      expect(cancelled.location!.searchParams.get('error')).toBe('access_denied');
      expect(cancelled.location!.searchParams.get('state')).toBe('c');
      expectUmaError(await grant({ ticket }), 403, 'need_info');

      // Use another account: the colleague signs in on the same browser and their claims go with the ticket.
      ticket = (await grant({ ticket: await ticketFor(MEDS) })).body.ticket as string;
      page = await doc.user.follow(await doc.user.get(claimsUrl({ client_id: clinic.id, ticket, claims_redirect_uri: CLINIC_CLAIMS })));
      form = formOf(page, /\/confirm$/);
      const login = await doc.user.post(form.action, [...hiddenFields(form), ['decision', 'switch']]);
      const loginForm = formOf(login, /\/login$/);
      const back = await doc.user.post(loginForm.action, [...hiddenFields(loginForm), ['email', colleague.email], ['password', colleague.password]]);
      const granted = await grant({ ticket: back.location!.searchParams.get('ticket')! });
      expect(granted.status).toBe(200);
      expect(await fhir.client.introspect(granted.body.access_token as string)).toMatchObject({ sub: colleague.id });
    });

    test('the ticket it hands back is for that client only', async () => {
      const doc = await physician('Dr Bound');
      await allow(doc.email, ['MedicationStatement']);
      const ticket = await identified(doc, MEDS);
      expectUmaError(await grant({ ticket }, otherClinic), 400, 'invalid_grant');
      expect((await grant({ ticket })).status).toBe(200);
    });
  });

  describe('the legacy HIE of One endpoints', () => {
    test('uma2-configuration names them', async () => {
      const config = (await (await fetch(`${server.url}/.well-known/uma2-configuration`)).json()) as Record<string, string>;
      expect(config).toMatchObject({ requesting_party_claims_endpoint: `${server.url}/rqp_claims`, rpt_endpoint: `${server.url}/authz_request`, claims_interaction_endpoint: `${server.url}/uma/claims` });
    });

    test('AAT + /authz_request + /rqp_claims: need_info, claims, RPT, read', async () => {
      const doc = await physician('Dr Legacy');
      await allow(doc.email, ['MedicationStatement']);
      const token = await aat();

      const needInfo = await authzRequest(token, { ticket: await ticketFor(MEDS) });
      expectUmaError(needInfo, 403, 'need_info');
      expect(needInfo.body.redirect_user).toBe(`${server.url}/uma/claims`);

      const { callback } = await gatherClaims(doc, needInfo.body.ticket as string, { endpoint: '/rqp_claims' });
      expect(callback.searchParams.get('authorization_state')).toBe('claims_submitted');
      const ticket = callback.searchParams.get('ticket')!;

      const answer = await authzRequest(token, { ticket });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toMatchObject({ rpt: expect.any(String), token_type: 'Bearer' });
      expect(answer.body.access_token).toBe(answer.body.rpt);
      expect(await fhir.read(MEDS, answer.body.rpt as string)).toMatchObject({ status: 200, body: bodyOf(MEDS) });
      expectUmaError(await authzRequest(token, { ticket }), 400, 'invalid_grant');
    });

    test('the same outcomes as the token endpoint: denied, submitted then approved', async () => {
      const token = await aat();
      const denied = await physician('Dr Legacy Denied');
      await rule({ effect: 'deny', grantee: { email: denied.email }, resources: { all: true } });
      const deniedTicket = await identified(denied, MEDS);
      expectUmaError(await authzRequest(token, { ticket: deniedTicket }), 403, 'request_denied');

      const asking = await physician('Dr Legacy Asking');
      const ticket = await identified(asking, MEDS);
      const submitted = await authzRequest(token, { ticket });
      expectUmaError(submitted, 403, 'request_submitted');
      expect(submitted.body.ticket).toBe(ticket);
      await approve(asking);
      const answer = await authzRequest(token, { ticket });
      expect(answer.status).toBe(200);
      expect(await fhir.read(MEDS, answer.body.rpt as string)).toMatchObject({ status: 200 });
    });

    test('the RPT endpoint takes only an AAT', async () => {
      const ticket = await ticketFor(MEDS);
      const none = await authzRequest(undefined, { ticket });
      expectUmaError(none, 401, 'invalid_token');
      expectUmaError(await authzRequest('not.a.token', { ticket }), 401, 'invalid_token');

      const doc = await physician('Dr Wrong Token');
      await allow(doc.email, ['MedicationStatement']);
      // An RPT is for the resource server, not for this server.
      const { rpt } = await rptFor(doc, MEDS);
      expectUmaError(await authzRequest(rpt, { ticket }), 401, 'invalid_token');
      // A token for this server without uma_authorization (the physician's own sign-in at the clinic app).
      const signIn = await new RawClient(server.url, clinic.id, CLINIC_CALLBACK, clinic.secret).tokens(doc.user, { scope: 'openid email' });
      const wrongScope = await authzRequest(signIn.access_token, { ticket });
      expectUmaError(wrongScope, 403, 'insufficient_scope');
      expect(wrongScope.headers.get('www-authenticate')).toContain('uma_authorization');

      expectUmaError(await authzRequest(await aat(), {}), 400, 'invalid_request');
      // None of this touched the ticket.
      expectUmaError(await grant({ ticket }), 403, 'need_info');
    });
  });
});
