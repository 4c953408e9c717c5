import { hashSecret } from '../../server/crypto/secrets.js';
import { umaProtectionMetadata } from '../../server/http/uma-protection.js';
import { registerResource } from '../../server/uma/resource-registration.js';
import type { ResourceDocument } from '../../server/store/repositories/resources.js';
import type { TicketDocument } from '../../server/store/repositories/uma-requests.js';
import { TICKET_LIFETIME_SECONDS } from '../../server/uma/tickets.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { basicAuth, RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The UMA protection API (Federated Authorization §3 resource registration, §4 permission
 * endpoint) over HTTP, with PATs obtained the way a resource server gets one: the owner (the
 * demo patient) logs in and consents to `uma_protection` in the authorization code flow.
 */

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

const RS_CALLBACK = 'http://localhost:4100/callback';
const PAT_SCOPE = 'openid uma_protection offline_access';

describe.each(storeBackends)('UMA protection API on the $name store', (backend) => {
  let server: TestServer;
  let rs: RawClient;
  let pat: string;
  let patRefresh: string;
  let otherPat: string;
  let ownerId: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    const secret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;
    rs = new RawClient(server.url, 'demo-resource-server', RS_CALLBACK, secret);
    const alice = new BrowserlessUser(server.url);
    const tokens = await rs.tokens(alice, { scope: PAT_SCOPE });
    expect(tokens.scope.split(' ')).toContain('uma_protection');
    pat = tokens.access_token;
    patRefresh = tokens.refresh_token!;
    ownerId = (await rs.introspect(pat)).sub as string;

    // A second resource server, registered dynamically, with its own PAT from the same owner.
    const registered = (await (
      await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'Other FHIR server', redirect_uris: ['http://localhost:4300/callback'], grant_types: ['authorization_code', 'refresh_token'], scope: PAT_SCOPE }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const other = new RawClient(server.url, registered.client_id, 'http://localhost:4300/callback', registered.client_secret);
    otherPat = (await other.tokens(alice, { scope: PAT_SCOPE })).access_token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function call(method: string, path: string, options: { token?: string | null; json?: unknown; raw?: string; type?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? pat : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.json !== undefined || options.raw !== undefined) {
      body = options.raw ?? JSON.stringify(options.json);
      headers['Content-Type'] = options.type ?? 'application/json';
    }
    const response = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON; kept as text so the assertion shows it.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  const register = async (description: unknown, token?: string) => {
    const reply = await call('POST', '/uma/resource_set', { json: description, token });
    expect({ status: reply.status, body: reply.status === 201 ? undefined : reply.body }).toEqual({ status: 201, body: undefined });
    return (reply.body as { _id: string })._id;
  };
  // White-box: the stored collections themselves.
  const storedResources = () => server.services.store.collection<ResourceDocument>('resources');
  const counts = async () => ({
    resources: await (await storedResources()).count({}),
    tickets: await (await server.services.store.collection<TicketDocument>('uma_tickets')).count({}),
  });
  const errorOf = (reply: Reply) => (reply.body as { error?: string } | undefined)?.error;

  describe('resource registration', () => {
    it('registers, reads, replaces, lists and deletes a resource', async () => {
      const description = { name: 'Medications', type: 'http://hl7.org/fhir/MedicationStatement', description: 'Current medications', icon_uri: 'https://fhir.example/icons/med.png', resource_scopes: ['read', 'write'] };
      const created = await call('POST', '/uma/resource_set', { json: description });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      const id = (created.body as { _id: string })._id;
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Object.keys(created.body as object)).toEqual(['_id']);
      expect(created.headers.get('location')).toMatch(new RegExp(`/uma/resource_set/${id}$`));

      const read = await call('GET', `/uma/resource_set/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ _id: id, ...description });
      const stored = await (await storedResources()).findOne({ _id: id });
      expect(stored).toMatchObject({ ownerId, resourceServerId: 'demo-resource-server' });

      // PUT replaces the whole description: members left out are gone.
      const replaced = await call('PUT', `/uma/resource_set/${id}`, { json: { name: 'Medications and allergies', resource_scopes: ['read'] } });
      expect(replaced).toMatchObject({ status: 200, body: { _id: id } });
      expect((await call('GET', `/uma/resource_set/${id}`)).body).toEqual({ _id: id, name: 'Medications and allergies', resource_scopes: ['read'] });
      // A replacement that removes nothing.
      expect((await call('PUT', `/uma/resource_set/${id}`, { json: { name: 'Meds', resource_scopes: ['read', 'share'] } })).status).toBe(200);
      expect((await call('GET', `/uma/resource_set/${id}`)).body).toEqual({ _id: id, name: 'Meds', resource_scopes: ['read', 'share'] });

      expect((await call('GET', '/uma/resource_set')).body).toContain(id);
      const deleted = await call('DELETE', `/uma/resource_set/${id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeUndefined();
      expect((await call('GET', `/uma/resource_set/${id}`)).status).toBe(404);
      expect(errorOf(await call('PUT', `/uma/resource_set/${id}`, { json: { resource_scopes: ['read'] } }))).toBe('not_found');
      expect((await call('DELETE', `/uma/resource_set/${id}`)).status).toBe(404);
      expect((await call('GET', '/uma/resource_set')).body).not.toContain(id);
      expect(await (await storedResources()).count({ _id: id })).toBe(0);
    });

    it('lists the ids of this resource server’s resources for this owner, oldest first', async () => {
      const before = (await call('GET', '/uma/resource_set')).body as string[];
      const a = await register({ resource_scopes: ['read'] });
      const b = await register({ resource_scopes: ['read'] });
      const list = await call('GET', '/uma/resource_set');
      expect(list.status).toBe(200);
      expect(list.body).toEqual([...before, a, b]);
    });

    it('ignores extension and server-managed members and collapses duplicate scopes', async () => {
      const id = await register(JSON.parse('{"resource_scopes":["read","read","write"],"_id":"chosen","ownerId":"mallory","user_access_policy_uri":"https://evil.example","x-extension":{"a":1}}'));
      expect(id).not.toBe('chosen');
      expect((await call('GET', `/uma/resource_set/${id}`)).body).toEqual({ _id: id, resource_scopes: ['read', 'write'] });
      const stored = (await (await storedResources()).findOne({ _id: id }))!;
      expect(stored.ownerId).toBe(ownerId);
      expect(Object.keys(stored)).not.toContain('x-extension');
    });

    it('keeps the resources of owners and resource servers apart', async () => {
      const mine = await register({ name: 'Labs', resource_scopes: ['read'] });
      const theirs = await register({ name: 'Other labs', resource_scopes: ['read'] }, otherPat);
      // Another owner's resource at the same resource server, registered below HTTP.
      const strangers = await registerResource(server.services, { ownerId: 'someone-else', resourceServerId: 'demo-resource-server' }, { resource_scopes: ['read'] });

      for (const foreign of [theirs, strangers]) {
        expect(errorOf(await call('GET', `/uma/resource_set/${foreign}`))).toBe('not_found');
        expect((await call('GET', `/uma/resource_set/${foreign}`)).status).toBe(404);
        expect((await call('PUT', `/uma/resource_set/${foreign}`, { json: { name: 'hijacked', resource_scopes: ['read', 'admin'] } })).status).toBe(404);
        expect((await call('DELETE', `/uma/resource_set/${foreign}`)).status).toBe(404);
        const permission = await call('POST', '/uma/permission', { json: { resource_id: foreign, resource_scopes: ['read'] } });
        expect(permission).toMatchObject({ status: 400, body: { error: 'invalid_resource_id' } });
      }
      expect((await (await storedResources()).findOne({ _id: theirs }))!.name).toBe('Other labs');
      expect(await (await storedResources()).count({ _id: strangers })).toBe(1);

      expect((await call('GET', '/uma/resource_set')).body).toEqual(expect.arrayContaining([mine]));
      expect((await call('GET', '/uma/resource_set')).body).not.toEqual(expect.arrayContaining([theirs]));
      expect((await call('GET', '/uma/resource_set')).body).not.toEqual(expect.arrayContaining([strangers]));
      expect((await call('GET', '/uma/resource_set', { token: otherPat })).body).toEqual([theirs]);
      expect((await call('GET', `/uma/resource_set/${mine}`, { token: otherPat })).status).toBe(404);
      expect((await call('DELETE', `/uma/resource_set/${mine}`, { token: otherPat })).status).toBe(404);
      expect((await call('POST', '/uma/permission', { token: otherPat, json: { resource_id: mine, resource_scopes: ['read'] } })).body).toMatchObject({ error: 'invalid_resource_id' });
      expect((await call('GET', `/uma/resource_set/${mine}`)).body).toMatchObject({ name: 'Labs' });
    });

    it('answers unknown and odd ids with 404', async () => {
      for (const id of ['nope', 'x'.repeat(300), '%00', '..%2F..%2Fetc', encodeURIComponent('{"$ne":null}')]) {
        const reply = await call('GET', `/uma/resource_set/${id}`);
        expect(reply.status).toBe(404);
        expect(errorOf(reply)).toBe('not_found');
      }
    });
  });

  describe('permission endpoint', () => {
    let records: string;
    let labs: string;
    beforeAll(async () => {
      records = await register({ name: 'Records', resource_scopes: ['read', 'write', 'http://fhir.example/scopes/share'] });
      labs = await register({ name: 'Labs', resource_scopes: ['read'] });
    });

    it('issues a ticket for one permission request', async () => {
      const before = await counts();
      const reply = await call('POST', '/uma/permission', { json: { resource_id: records, resource_scopes: ['read', 'http://fhir.example/scopes/share'] } });
      expect(reply.status).toBe(201);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const { ticket } = reply.body as { ticket: string };
      expect(typeof ticket).toBe('string');
      expect(Object.keys(reply.body as object)).toEqual(['ticket']);
      expect((await counts()).tickets).toBe(before.tickets + 1);
      const stored = (await server.services.uma.tickets.find(hashSecret(ticket)))!;
      expect(stored).toMatchObject({
        ownerId,
        resourceServerId: 'demo-resource-server',
        permissions: [{ resource_id: records, resource_scopes: ['read', 'http://fhir.example/scopes/share'] }],
      });
      expect(stored.expiresAt.getTime()).toBeGreaterThan(Date.now() + (TICKET_LIFETIME_SECONDS - 30) * 1000);
      expect(stored.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + TICKET_LIFETIME_SECONDS * 1000);
    });

    it('issues one ticket for an array of permission requests, merging repeats', async () => {
      const reply = await call('POST', '/uma/permission', {
        json: [
          { resource_id: records, resource_scopes: ['read'] },
          { resource_id: labs, resource_scopes: ['read'] },
          { resource_id: records, resource_scopes: ['write', 'read'] },
          { resource_id: labs, resource_scopes: [] },
        ],
      });
      expect(reply.status).toBe(201);
      const stored = (await server.services.uma.tickets.find(hashSecret((reply.body as { ticket: string }).ticket)))!;
      expect(stored.permissions).toEqual([
        { resource_id: records, resource_scopes: ['read', 'write'] },
        { resource_id: labs, resource_scopes: ['read'] },
      ]);
    });

    it('accepts zero scopes (UMA §4.1), which ask for none', async () => {
      const reply = await call('POST', '/uma/permission', { json: { resource_id: labs, resource_scopes: [] } });
      expect(reply.status).toBe(201);
      const stored = (await server.services.uma.tickets.find(hashSecret((reply.body as { ticket: string }).ticket)))!;
      expect(stored.permissions).toEqual([{ resource_id: labs, resource_scopes: [] }]);
    });

    it('refuses unknown resources and scopes, writing nothing', async () => {
      const before = await counts();
      const unknownResource = await call('POST', '/uma/permission', { json: { resource_id: 'no-such-resource', resource_scopes: ['read'] } });
      expect(unknownResource).toMatchObject({ status: 400, body: { error: 'invalid_resource_id' } });
      const laterUnknown = await call('POST', '/uma/permission', { json: [{ resource_id: records, resource_scopes: ['read'] }, { resource_id: 'no-such-resource', resource_scopes: ['read'] }] });
      expect(laterUnknown).toMatchObject({ status: 400, body: { error: 'invalid_resource_id' } });
      const unknownScope = await call('POST', '/uma/permission', { json: { resource_id: labs, resource_scopes: ['read', 'write'] } });
      expect(unknownScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      const laterScope = await call('POST', '/uma/permission', { json: [{ resource_id: records, resource_scopes: ['write'] }, { resource_id: labs, resource_scopes: ['write'] }] });
      expect(laterScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      // A deleted resource is unknown too.
      const gone = await register({ resource_scopes: ['read'] });
      expect((await call('DELETE', `/uma/resource_set/${gone}`)).status).toBe(204);
      expect((await call('POST', '/uma/permission', { json: { resource_id: gone, resource_scopes: ['read'] } })).body).toMatchObject({ error: 'invalid_resource_id' });
      expect(await counts()).toEqual(before);
    });
  });

  describe('who may call', () => {
    const everyCall = (id: string) =>
      [
        ['POST', '/uma/resource_set', { resource_scopes: ['read'] }],
        ['GET', '/uma/resource_set', undefined],
        ['GET', `/uma/resource_set/${id}`, undefined],
        ['PUT', `/uma/resource_set/${id}`, { resource_scopes: ['read'] }],
        ['DELETE', `/uma/resource_set/${id}`, undefined],
        ['POST', '/uma/permission', { resource_id: id, resource_scopes: ['read'] }],
      ] as const;

    let id: string;
    beforeAll(async () => {
      id = await register({ name: 'Guarded', resource_scopes: ['read'] });
    });
    afterEach(async () => {
      expect((await call('GET', `/uma/resource_set/${id}`)).body).toEqual({ _id: id, name: 'Guarded', resource_scopes: ['read'] });
    });

    async function expectRefused(token: string | null, status: number, error: string | undefined, headers: Record<string, string> = {}) {
      const before = await counts();
      for (const [method, path, json] of everyCall(id)) {
        const reply = await call(method, path, { token, json, headers });
        expect({ method, path, status: reply.status, error: errorOf(reply) }).toEqual({ method, path, status, error });
        expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      expect(await counts()).toEqual(before);
    }

    it('needs a bearer token (401)', async () => {
      await expectRefused(null, 401, 'invalid_token');
      await expectRefused(null, 401, 'invalid_token', { Authorization: basicAuth('demo-resource-server', 'whatever') });
    });

    it('refuses garbage, forged and revoked tokens (401)', async () => {
      await expectRefused('garbage', 401, 'invalid_token');
      const [header, payload] = pat.split('.');
      await expectRefused(`${header}.${payload}.${'A'.repeat(86)}`, 401, 'invalid_token');
      const refreshed = await rs.refresh(patRefresh);
      expect(refreshed.status).toBe(200);
      const fresh = refreshed.body.access_token as string;
      expect((await call('GET', '/uma/resource_set', { token: fresh })).status).toBe(200);
      expect((await rs.call('/revoke', { token: fresh })).status).toBe(200);
      await expectRefused(fresh, 401, 'invalid_token');
    });

    it('refuses an owner’s token without uma_protection (403 insufficient_scope)', async () => {
      const plain = await rs.tokens(new BrowserlessUser(server.url), { scope: 'openid' });
      expect(plain.scope.split(' ')).not.toContain('uma_protection');
      await expectRefused(plain.access_token, 403, 'insufficient_scope');
    });

    it('refuses a client credentials token, which no owner granted (403)', async () => {
      // The consent policy grants no user scope (uma_protection among them) without a user ...
      expect(await rs.call('/token', { grant_type: 'client_credentials', scope: 'uma_protection' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      const registered = (await (
        await fetch(`${server.url}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ client_name: 'backend', grant_types: ['client_credentials'], scope: 'uma_authorization' }),
        })
      ).json()) as { client_id: string; client_secret: string };
      const backendClient = new RawClient(server.url, registered.client_id, undefined, registered.client_secret);
      const response = await backendClient.call('/token', { grant_type: 'client_credentials' });
      expect(response.status).toBe(200);
      await expectRefused(response.body.access_token as string, 403, 'insufficient_scope');
      // ... and should one ever carry uma_protection, a token whose subject is the client itself is still no PAT.
      const clientOnly = await server.services.tokenService.issueAccessToken({ clientId: 'demo-resource-server', subject: 'demo-resource-server', scopes: ['uma_protection'] });
      await expectRefused(clientOnly.token, 403, 'insufficient_scope');
    });
  });

  describe('bad input', () => {
    let id: string;
    beforeAll(async () => {
      id = await register({ name: 'Stable', resource_scopes: ['read', 'write'] });
    });

    const big = JSON.stringify({ resource_scopes: ['read'], description: 'x'.repeat(70 * 1024) });
    const descriptions: [string, { raw: string; type?: string }][] = [
      ['malformed JSON', { raw: '{"resource_scopes": ["read"' }],
      ['JSON null', { raw: 'null' }],
      ['a JSON string', { raw: '"read"' }],
      ['a JSON array', { raw: '[{"resource_scopes": ["read"]}]' }],
      ['an empty object', { raw: '{}' }],
      ['empty resource_scopes', { raw: '{"resource_scopes": []}' }],
      ['resource_scopes as a string', { raw: '{"resource_scopes": "read"}' }],
      ['resource_scopes as an object', { raw: '{"resource_scopes": {"read": true}}' }],
      ['nested arrays of scopes', { raw: '{"resource_scopes": [["read"]]}' }],
      ['an object as a scope', { raw: '{"resource_scopes": [{"name": "read"}]}' }],
      ['a number as a scope', { raw: '{"resource_scopes": [1]}' }],
      ['an empty scope', { raw: '{"resource_scopes": [""]}' }],
      ['a scope with a space', { raw: '{"resource_scopes": ["read write"]}' }],
      ['too many scopes', { raw: JSON.stringify({ resource_scopes: Array.from({ length: 65 }, (_, i) => `s${i}`) }) }],
      ['a name object', { raw: '{"resource_scopes": ["read"], "name": {"first": "x"}}' }],
      ['a name array', { raw: '{"resource_scopes": ["read"], "name": ["x"]}' }],
      ['a null type', { raw: '{"resource_scopes": ["read"], "type": null}' }],
      ['an over-long name', { raw: JSON.stringify({ resource_scopes: ['read'], name: 'n'.repeat(300) }) }],
      ['a __proto__ member', { raw: '{"resource_scopes": ["read"], "__proto__": {"polluted": true}}' }],
      ['a javascript: icon', { raw: '{"resource_scopes": ["read"], "icon_uri": "javascript:alert(1)"}' }],
      ['a relative icon', { raw: '{"resource_scopes": ["read"], "icon_uri": "/icon.png"}' }],
      ['an oversized body', { raw: big }],
      ['a form body', { raw: 'resource_scopes=read', type: 'application/x-www-form-urlencoded' }],
      ['a text body', { raw: '{"resource_scopes": ["read"]}', type: 'text/plain' }],
    ];

    it.each(descriptions)('refuses a resource description with %s, writing nothing', async (_name, input) => {
      const before = await counts();
      for (const [method, path] of [
        ['POST', '/uma/resource_set'],
        ['PUT', `/uma/resource_set/${id}`],
      ] as const) {
        const reply = await call(method, path, input);
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect(typeof errorOf(reply)).toBe('string');
      }
      expect(await counts()).toEqual(before);
      expect((await call('GET', `/uma/resource_set/${id}`)).body).toEqual({ _id: id, name: 'Stable', resource_scopes: ['read', 'write'] });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers schema violations with invalid_request and unsupported bodies with 415', async () => {
      expect(await call('POST', '/uma/resource_set', { raw: '{"resource_scopes": []}' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect((await call('POST', '/uma/resource_set', { raw: 'x', type: 'text/plain' })).status).toBe(415);
      expect((await call('PUT', `/uma/resource_set/${id}`)).status).toBe(415);
      expect((await call('POST', '/uma/resource_set', { raw: big })).status).toBe(413);
    });

    const permissions = (): [string, { raw: string; type?: string }][] => [
      ['malformed JSON', { raw: `{"resource_id": "${id}"` }],
      ['an empty array', { raw: '[]' }],
      ['an empty object', { raw: '{}' }],
      ['JSON null', { raw: 'null' }],
      ['a number resource_id', { raw: '{"resource_id": 5, "resource_scopes": ["read"]}' }],
      ['an object resource_id', { raw: '{"resource_id": {"$ne": null}, "resource_scopes": ["read"]}' }],
      ['an array resource_id', { raw: `{"resource_id": ["${id}"], "resource_scopes": ["read"]}` }],
      ['missing resource_scopes', { raw: `{"resource_id": "${id}"}` }],
      ['resource_scopes as a string', { raw: `{"resource_id": "${id}", "resource_scopes": "read"}` }],
      ['nested scope arrays', { raw: `{"resource_id": "${id}", "resource_scopes": [["read"]]}` }],
      ['an object scope', { raw: `{"resource_id": "${id}", "resource_scopes": [{"$ne": null}]}` }],
      ['a valid request then a string', { raw: `[{"resource_id": "${id}", "resource_scopes": ["read"]}, "x"]` }],
      ['nested request arrays', { raw: `[[{"resource_id": "${id}", "resource_scopes": ["read"]}]]` }],
      ['too many requests', { raw: JSON.stringify(Array.from({ length: 51 }, () => ({ resource_id: id, resource_scopes: ['read'] }))) }],
      ['too many scopes', { raw: JSON.stringify({ resource_id: id, resource_scopes: Array.from({ length: 65 }, () => 'read') }) }],
      ['an over-long resource_id', { raw: JSON.stringify({ resource_id: 'r'.repeat(600), resource_scopes: ['read'] }) }],
      ['an oversized body', { raw: JSON.stringify({ resource_id: id, resource_scopes: ['read'], padding: 'x'.repeat(70 * 1024) }) }],
      ['a form body', { raw: `resource_id=${id}&resource_scopes=read`, type: 'application/x-www-form-urlencoded' }],
      ['a text body', { raw: `{"resource_id": "${id}", "resource_scopes": ["read"]}`, type: 'text/plain' }],
    ];

    it('refuses malformed permission requests, writing nothing', async () => {
      const before = await counts();
      for (const [name, input] of permissions()) {
        const reply = await call('POST', '/uma/permission', input);
        expect({ name, status: reply.status >= 400 && reply.status < 500, error: typeof errorOf(reply) }).toEqual({ name, status: true, error: 'string' });
      }
      expect(await counts()).toEqual(before);
    });

    it('authenticates before it reads the body', async () => {
      expect((await call('POST', '/uma/resource_set', { token: null, raw: '{"resource_scopes": []}' })).status).toBe(401);
      expect((await call('POST', '/uma/permission', { token: 'garbage', raw: 'x', type: 'text/plain' })).status).toBe(401);
    });
  });

  it('contributes its endpoints to the UMA metadata', () => {
    expect(umaProtectionMetadata('https://as.example')).toEqual({
      resource_registration_endpoint: 'https://as.example/uma/resource_set',
      permission_endpoint: 'https://as.example/uma/permission',
    });
  });
});
