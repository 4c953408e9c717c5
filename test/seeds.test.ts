import { verifyPassword } from '../server/crypto/password.js';
import { secretMatches } from '../server/crypto/secrets.js';
import { seedDemoData } from '../server/seeds.js';
import type { Store } from '../server/store/port.js';
import { Accounts } from '../server/store/repositories/accounts.js';
import { Clients } from '../server/store/repositories/clients.js';
import { Resources } from '../server/store/repositories/resources.js';
import { BrowserlessUser, DEMO_EMAIL, formOf, hiddenFields, textOf } from './support/browserless-user.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from './support/server.js';
import { disposeStore, storeBackends } from './support/stores.js';

describe.each(storeBackends)('demo seeds on the $name store', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(() => disposeStore(store));

  test('load once, with hashed credentials, and never again', async () => {
    const repositories = { accounts: await Accounts.open(store), clients: await Clients.open(store), resources: await Resources.open(store) };
    const first = await seedDemoData(store, repositories, undefined);
    const password = first?.passwords[0]?.password;
    expect(first?.passwords).toEqual(
      ['alice@example.org', 'bob@example.org', 'dr.smith@example.org', 'admin@example.org'].map((email) => ({ email, password: expect.any(String), generated: true })),
    );
    expect(new Set(first?.passwords.map((p) => p.password))).toEqual(new Set([password]));
    expect(first?.clientSecrets.map((c) => c.clientId)).toEqual(['demo-resource-server']);

    const alice = await repositories.accounts.byEmail('Alice@Example.org');
    expect(alice?.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(first!.passwords[0]!.password, alice!.passwordHash!)).toBe(true);
    expect(await verifyPassword('wrong', alice!.passwordHash!)).toBe(false);
    const rs = await repositories.clients.byId('demo-resource-server');
    expect(rs?.secretHash).toBeDefined();
    expect(secretMatches(first!.clientSecrets[0]!.secret, rs!.secretHash!)).toBe(true);
    expect((await repositories.clients.byId('demo-app'))?.secretHash).toBeUndefined();

    expect(await seedDemoData(store, repositories, 'another-password')).toBeUndefined();
    expect((await repositories.accounts.byEmail('alice@example.org'))?.passwordHash).toBe(alice?.passwordHash);
    expect(await repositories.resources.ofOwner(alice!._id)).toHaveLength(4);
  });

  test("the demo patient's records are registered as the demo resource server's UMA resources", async () => {
    const repositories = { accounts: await Accounts.open(store), clients: await Clients.open(store), resources: await Resources.open(store) };
    await seedDemoData(store, repositories, undefined);
    const alice = await repositories.accounts.byEmail('alice@example.org');
    const resources = await repositories.resources.ofServer('demo-resource-server');
    expect(resources.map(({ ownerId, name, type, resource_scopes }) => ({ ownerId, name, type, resource_scopes }))).toEqual([
      { ownerId: alice!._id, name: 'Medication list', type: 'MedicationStatement', resource_scopes: ['read', 'write'] },
      { ownerId: alice!._id, name: 'Lab results', type: 'Observation', resource_scopes: ['read'] },
      { ownerId: alice!._id, name: 'Immunizations', type: 'Immunization', resource_scopes: ['read', 'write'] },
      { ownerId: alice!._id, name: 'Mental-health notes', type: 'DocumentReference', resource_scopes: ['read'] },
    ]);
  });
});

describe.each(storeBackends)('a fresh server on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  test("offers the demo patient's seeded records in the sharing rule form and the preview", async () => {
    const alice = new BrowserlessUser(server.url);
    expect((await alice.signIn(DEMO_EMAIL, DEMO_PASSWORD)).location?.pathname).toBe('/account');
    const page = await alice.get('/account/sharing');
    expect(page.status).toBe(200);
    const choices = [...page.html.matchAll(/<option value="([^"]+)"[^>]*>([^<]+)<\/option>/g)].map((m) => [m[1], m[2]?.trim()]);
    expect(choices).toEqual(
      expect.arrayContaining([
        ['id:demo-medications', 'Medication list (MedicationStatement)'],
        ['id:demo-lab-results', 'Lab results (Observation)'],
        ['id:demo-immunizations', 'Immunizations (Immunization)'],
        ['id:demo-mental-health', 'Mental-health notes (DocumentReference)'],
        ['type:Observation', expect.stringContaining('Observation')],
      ]),
    );
    const form = formOf(page, /\/account\/sharing\/preview$/);
    const preview = await alice.post(form.action, [...hiddenFields(form), ['email', 'dr@clinic.org']]);
    const text = textOf((await alice.follow(preview)).html);
    for (const name of ['Medication list', 'Lab results', 'Immunizations', 'Mental-health notes']) expect(text).toContain(name);
  });
});
