import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../server/config/config.js';
import { hashSecret } from '../../server/crypto/secrets.js';
import { startServer, type RunningServer } from '../../server/runtime.js';
import { StartupError } from '../../server/startup-error.js';
import type { Store } from '../../server/store/port.js';
import type { ClientDocument } from '../../server/store/repositories/clients.js';
import { storedDecisions } from '../support/decisions.js';
import { testConfig } from '../support/server.js';
import { disposeStore, storeBackends } from '../support/stores.js';

const FIRST_SECRET = 'ehr-secret-one-0123456789abcdefghijklmnop';
const SECOND_SECRET = 'ehr-secret-two-0123456789abcdefghijklmnop';
const FHIR_SECRET = 'fhir-secret-0123456789abcdefghijklmnopqrs';

const ehr = (secret: string, extra: Record<string, unknown> = {}) => ({
  client_id: 'ehr',
  client_secret: secret,
  client_name: 'Hospital EHR',
  grant_types: ['client_credentials'],
  scope: 'openid smart/launch',
  ...extra,
});
const fhirServer = {
  client_id: 'fhir-server',
  client_secret: FHIR_SECRET,
  grant_types: ['client_credentials'],
  scope: 'uma_protection',
  fhir_base_urls: ['https://fhir.example.org/r4/'],
};
const app = { client_id: 'smart-app', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:9999/app/'] };

const clientsEnv = (clients: unknown[]) => ({ ASSENT_CLIENTS: JSON.stringify(clients) });

describe('operator clients in the configuration', () => {
  it.each([
    ['a member of the wrong type', [app, { ...app, client_id: 'other', redirect_uris: 'https://x.example/cb' }], /ASSENT_CLIENTS \(clients\/1\/redirect_uris\): must be array/],
    ['an unknown member', [{ ...app, redirect_uri: 'https://x.example/cb' }], /ASSENT_CLIENTS \(clients\/0\/redirect_uri\): unknown client metadata member/],
    ['a bad fhir_base_urls entry', [{ ...fhirServer, fhir_base_urls: ['fhir.example.org'] }], /ASSENT_CLIENTS \(clients\/0\/fhir_base_urls\/0\)/],
    ['no client_id', [{ redirect_uris: ['https://x.example/cb'] }], /ASSENT_CLIENTS \(clients\/0\): must have required property 'client_id'/],
    ['a short secret', [ehr('short')], /ASSENT_CLIENTS \(clients\/0\/client_secret\): must NOT have fewer than 32 characters/],
    ['one client_id twice', [app, app], /client_id smart-app is configured twice/],
  ])('%s stops start-up naming the key', async (_name, clients, message) => {
    const config = testConfig(clientsEnv(clients));
    await expect(config).rejects.toThrow(ConfigError);
    await expect(config).rejects.toThrow(message);
  });

  it('are read from the config file too, the environment winning; fhirBaseUrls beside them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'assent-config-'));
    const file = path.join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ clients: [app], fhirBaseUrls: ['https://fhir.example.org/r4/'] }));
    try {
      expect((await testConfig({ ASSENT_CONFIG: file })).clients).toEqual([app]);
      expect((await testConfig({ ASSENT_CONFIG: file })).fhirBaseUrls).toEqual(['https://fhir.example.org/r4']);
      expect((await testConfig({ ASSENT_CONFIG: file, ...clientsEnv([fhirServer]) })).clients).toEqual([fhirServer]);
      await writeFile(file, JSON.stringify({ clients: [{ ...app, grant_types: ['password'] }] }));
      await expect(testConfig({ ASSENT_CONFIG: file })).rejects.toThrow(/ASSENT_CLIENTS \(clients\/0\/grant_types\/0\): must be one of/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ASSENT_CLIENTS that is not JSON stops start-up', async () => {
    await expect(testConfig({ ASSENT_CLIENTS: '[{' })).rejects.toThrow(/ASSENT_CLIENTS \(clients\): not valid JSON/);
  });
});

describe.each(storeBackends)('operator clients on the $name store', (backend) => {
  let store: Store;
  let running: RunningServer | undefined;
  const dataDirs: string[] = [];
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await running?.close();
    await disposeStore(store);
    await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const start = async (clients: unknown[]) => {
    const config = await testConfig(clientsEnv(clients));
    dataDirs.push(config.dataDir);
    return startServer(config, { store, seedDemo: false });
  };
  const restart = async (clients: unknown[]) => {
    await running?.close();
    running = undefined;
    running = await start(clients);
    return running;
  };
  const clientDocument = async (id: string) => (await store.collection<ClientDocument>('clients')).findOne({ _id: id });
  const clientCredentials = (server: RunningServer, secret: string, scope?: string) =>
    fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`ehr:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
    });

  it('are written at start-up with source operator, the secret hashed, fhir_base_urls normalised, decided by the registration policy', async () => {
    const server = await restart([ehr(FIRST_SECRET), fhirServer, app]);
    const stored = await clientDocument('ehr');
    expect(stored).toMatchObject({ source: 'operator', secretHash: hashSecret(FIRST_SECRET), metadata: { client_name: 'Hospital EHR', scope: 'openid smart/launch', token_endpoint_auth_method: 'client_secret_basic' } });
    expect(stored).not.toHaveProperty('registrationTokenHash');
    expect(JSON.stringify(stored)).not.toContain(FIRST_SECRET);
    expect((await clientDocument('fhir-server'))?.metadata.fhir_base_urls).toEqual(['https://fhir.example.org/r4']);
    expect(await clientDocument('smart-app')).toMatchObject({ source: 'operator', metadata: { response_types: ['code'], grant_types: ['authorization_code'] } });
    expect(await clientDocument('smart-app')).not.toHaveProperty('secretHash');
    const decisions = await storedDecisions({ store, dataDir: server.services.config.dataDir }, 'registration');
    expect(decisions.map((d) => d.input)).toEqual(expect.arrayContaining([expect.objectContaining({ source: 'operator', scopes: ['uma_protection'], members: expect.arrayContaining(['fhir_base_urls']) })]));
    expect(decisions.every((d) => (d.result as { allow: boolean }).allow)).toBe(true);
  });

  it('the secret works at /token; without scope the client gets its registered scopes that need no user', async () => {
    const response = await clientCredentials(running!, FIRST_SECRET);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ token_type: 'Bearer', scope: 'smart/launch' });
    const userScope = await clientCredentials(running!, FIRST_SECRET, 'openid');
    expect(userScope.status).toBe(400);
    expect(await userScope.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('a changed entry is the client changed after a restart: new secret, new metadata, first-seen time kept', async () => {
    const before = await clientDocument('ehr');
    const server = await restart([ehr(SECOND_SECRET, { client_name: 'Hospital EHR 2', scope: 'smart/launch access_evaluation' }), fhirServer, app]);
    expect(await clientDocument('ehr')).toMatchObject({ source: 'operator', secretHash: hashSecret(SECOND_SECRET), createdAt: before!.createdAt, metadata: { client_name: 'Hospital EHR 2' } });
    expect((await clientCredentials(server, FIRST_SECRET)).status).toBe(401);
    const response = await clientCredentials(server, SECOND_SECRET);
    expect(response.status).toBe(200);
    expect((await response.json()).scope).toBe('access_evaluation smart/launch');
  });

  it('an operator client removed from the configuration is retired at the next start-up, what it was issued revoked', async () => {
    const response = await fetch(`${running!.url}/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`fhir-server:${FHIR_SECRET}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(200);
    const { jti } = JSON.parse(Buffer.from((await response.json()).access_token.split('.')[1], 'base64url').toString()) as { jti: string };
    const server = await restart([ehr(SECOND_SECRET, { client_name: 'Hospital EHR 2', scope: 'smart/launch access_evaluation' }), app]);
    expect(await clientDocument('fhir-server')).toBeNull();
    expect(await clientDocument('ehr')).not.toBeNull();
    expect((await server.services.tokens.accessTokens.byJti(jti))?.revokedAt).toBeInstanceOf(Date);
  });

  it('an operator client is not managed through /register (RFC 7592)', async () => {
    const response = await fetch(`${running!.url}/register/ehr`, { headers: { Authorization: `Bearer ${SECOND_SECRET}` } });
    expect(response.status).toBe(401);
  });

  it.each([
    ['a secret client without a secret (after a good new entry)', [{ ...app, client_id: 'app-2' }, { ...ehr(FIRST_SECRET), client_id: 'ehr-2', client_secret: undefined }], /ASSENT_CLIENTS \(clients\/1\/client_secret\): is required with token_endpoint_auth_method client_secret_basic/],
    ['a public client with a secret', [{ ...app, client_id: 'app-2', client_secret: FIRST_SECRET }], /ASSENT_CLIENTS \(clients\/0\/client_secret\): must not be given with token_endpoint_auth_method none/],
    ['a redirect URI over plain http', [app, { ...app, client_id: 'app-2', redirect_uris: ['http://app.example/cb'] }], /ASSENT_CLIENTS \(clients\/1\): redirect_uris\/0 must use https/],
    ['the code grant without redirect URIs', [{ client_id: 'app-2', client_secret: FIRST_SECRET }], /ASSENT_CLIENTS \(clients\/0\): redirect_uris is required/],
    ['private_key_jwt without keys', [{ client_id: 'backend', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' }], /ASSENT_CLIENTS \(clients\/0\): private_key_jwt needs jwks or jwks_uri/],
  ])('%s stops start-up naming the entry, and nothing is written', async (_name, clients, message) => {
    await running?.close();
    running = undefined;
    const failed = start(clients);
    await expect(failed).rejects.toThrow(StartupError);
    await expect(failed).rejects.toThrow(message);
    expect(await clientDocument('app-2')).toBeNull();
    expect(await clientDocument('ehr-2')).toBeNull();
    expect(await clientDocument('backend')).toBeNull();
  });
});
