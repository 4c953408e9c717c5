import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { claimsFor } from '../../server/oauth/token-service.js';
import type { AccountDocument } from '../../server/store/repositories/accounts.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

const FHIR_BASE = 'http://fhir.example/r4';

describe('the fhirUser claim', () => {
  const alice = { _id: 'sub-alice', email: 'alice@example.org', emailVerified: true, name: 'Alice', createdAt: new Date(), fhirUser: 'Patient/alice' } as AccountDocument;

  test('only with the fhirUser scope, as a URL on the first FHIR base, or the relative reference without one', () => {
    expect(claimsFor(alice, ['openid', 'fhirUser'], FHIR_BASE)).toEqual({ sub: 'sub-alice', fhirUser: `${FHIR_BASE}/Patient/alice` });
    expect(claimsFor(alice, ['openid', 'fhirUser'], undefined)).toEqual({ sub: 'sub-alice', fhirUser: 'Patient/alice' });
    expect(claimsFor(alice, ['openid', 'profile'], FHIR_BASE)).toEqual({ sub: 'sub-alice', name: 'Alice' });
    expect(claimsFor({ ...alice, fhirUser: undefined }, ['openid', 'fhirUser'], FHIR_BASE)).toEqual({ sub: 'sub-alice' });
  });
});

describe.each(storeBackends)('accounts with a FHIR identity on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    const file = path.join(os.tmpdir(), `assent-fhir-user-${process.pid}-${backend.name}.json`);
    await writeFile(file, JSON.stringify({ fhirBaseUrls: [FHIR_BASE, 'http://other.example/fhir'] }));
    server = await startTestServer(backend, { ASSENT_CONFIG: file });
  });
  afterAll(() => server.stop());

  const account = async (email: string) => (await server.services.accounts.byEmail(email))!;

  test('the demo accounts: two patients, a practitioner with both their compartments, an admin', async () => {
    expect(await account('alice@example.org')).toMatchObject({ fhirUser: 'Patient/alice' });
    expect(await account('bob@example.org')).toMatchObject({ fhirUser: 'Patient/bob' });
    expect(await account('dr.smith@example.org')).toMatchObject({ fhirUser: 'Practitioner/smith', patients: ['alice', 'bob'] });
    const admin = await account('admin@example.org');
    expect(admin.roles).toEqual(['admin']);
    expect(admin.fhirUser).toBeUndefined();
  });

  test('the ID token and userinfo carry fhirUser as the resource URL when the fhirUser scope was granted', async () => {
    const smith = await account('dr.smith@example.org');
    const lineage = { clientId: 'demo-app', accountId: smith._id };
    const access = await server.services.tokenService.issueAccessToken({ ...lineage, subject: smith._id, scopes: ['openid', 'fhirUser'] });
    const userinfo = await fetch(`${server.url}/userinfo`, { headers: { Authorization: `Bearer ${access.token}` } });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toEqual({ sub: smith._id, fhirUser: `${FHIR_BASE}/Practitioner/smith` });

    const idToken = await server.services.tokenService.issueIdToken({ account: smith, clientId: 'demo-app', scopes: ['openid', 'fhirUser'], authTime: Math.floor(Date.now() / 1000), accessToken: access.token, alg: 'RS256' });
    const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'demo-app', algorithms: ['RS256'] });
    expect(payload.fhirUser).toBe(`${FHIR_BASE}/Practitioner/smith`);

    const plain = await server.services.tokenService.issueAccessToken({ ...lineage, subject: smith._id, scopes: ['openid'] });
    const without = await fetch(`${server.url}/userinfo`, { headers: { Authorization: `Bearer ${plain.token}` } });
    expect(await without.json()).toEqual({ sub: smith._id });
  });
});
