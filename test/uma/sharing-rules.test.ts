import type { ClaimsInput } from '../../server/policy/entrypoints.js';
import { describeRule } from '../../server/uma/sharing/sentences.js';
import { RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { accountId, addResource, createAccount, ownerToken, registerRulesClient } from './sharing-support.js';

/**
 * The owner's sharing-rules JSON API over HTTP (/uma/rules, /uma/rules/preview,
 * /uma/decisions/:id/explain) with tokens got through the code flow by the owner's own app.
 */

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const PAST = '2020-01-01T00:00:00Z';
const FUTURE = '2099-06-01T00:00:00Z';

describe.each(storeBackends)('sharing rules API on the $name store', (backend) => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let aliceId: string;

  const call = async (method: string, path: string, token: string | undefined, json?: unknown, type = 'application/json'): Promise<Reply> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(json !== undefined ? { 'Content-Type': type } : {}) },
      body: json === undefined ? undefined : typeof json === 'string' ? json : JSON.stringify(json),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const expectError = (reply: Reply, status: number, error: string, description?: RegExp) => {
    expect({ status: reply.status, error: reply.body.error }).toEqual({ status, error });
    if (description) expect(reply.body.error_description).toMatch(description);
    expect(reply.headers.get('cache-control')).toBe('no-store');
  };

  beforeAll(async () => {
    server = await startTestServer(backend);
    const client = await registerRulesClient(server.url);
    alice = await ownerToken(server.url, client);
    await createAccount(server.services, 'bob.other@example.org');
    bob = await ownerToken(server.url, client, 'bob.other@example.org');
    aliceId = await accountId(server.services);
    await addResource(server.services, aliceId, { id: 'res-med', name: 'Medication list', type: 'medication', scopes: ['read', 'write'] });
    await addResource(server.services, aliceId, { id: 'res-lab', name: 'Lab results', type: 'lab', scopes: ['read'] });
  });
  afterAll(() => server.stop());

  describe('authentication', () => {
    it('wants a bearer token', async () => {
      const reply = await call('GET', '/uma/rules', undefined);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('refuses an invalid token', async () => {
      expectError(await call('GET', '/uma/rules', 'not-a-token'), 401, 'invalid_token');
    });

    it('refuses a token without the sharing_rules scope', async () => {
      const demoApp = new RawClient(server.url);
      const { access_token } = await demoApp.tokens(new BrowserlessUser(server.url), { scope: 'openid' });
      const reply = await call('GET', '/uma/rules', access_token);
      expectError(reply, 403, 'insufficient_scope');
      expect(reply.headers.get('www-authenticate')).toContain('scope="sharing_rules"');
    });
  });

  describe('CRUD', () => {
    const cardiologist = {
      id: 'cardiologist',
      effect: 'allow',
      grantee: { email: 'dr@clinic.org' },
      resources: { ids: ['res-med'] },
      scopes: ['read'],
      conditions: { valid_until: '2026-06-01T00:00:00Z' },
    };

    it('adds, reads, lists, replaces and deletes a rule with a client-chosen id', async () => {
      const created = await call('POST', '/uma/rules', alice, cardiologist);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${server.services.config.issuer}/uma/rules/cardiologist`);
      expect(created.body).toEqual({ rule: cardiologist, description: 'Allow dr@clinic.org (verified email) to read your Medication list until 1 June 2026.' });

      const read = await call('GET', '/uma/rules/cardiologist', alice);
      expect(read.status).toBe(200);
      expect(read.body.rule).toEqual(cardiologist);

      const listed = await call('GET', '/uma/rules', alice);
      expect((listed.body.rules as { rule: { id: string } }[]).map((r) => r.rule.id)).toContain('cardiologist');

      const changed = { ...cardiologist, scopes: ['read', 'write'] };
      const replaced = await call('PUT', '/uma/rules/cardiologist', alice, changed);
      expect(replaced.status).toBe(200);
      expect(replaced.body.description).toBe('Allow dr@clinic.org (verified email) to read and write your Medication list until 1 June 2026.');
      expect((await call('GET', '/uma/rules/cardiologist', alice)).body.rule).toEqual(changed);

      // PUT without an id in the body takes the path's.
      const withoutId: Record<string, unknown> = { ...changed };
      delete withoutId.id;
      expect((await call('PUT', '/uma/rules/cardiologist', alice, withoutId)).status).toBe(200);

      const deleted = await call('DELETE', '/uma/rules/cardiologist', alice);
      expect(deleted.status).toBe(204);
      expectError(await call('GET', '/uma/rules/cardiologist', alice), 404, 'not_found');
      expectError(await call('DELETE', '/uma/rules/cardiologist', alice), 404, 'not_found');
      expectError(await call('PUT', '/uma/rules/cardiologist', alice, cardiologist), 404, 'not_found');
    });

    it('generates an id when none is given', async () => {
      const created = await call('POST', '/uma/rules', alice, { effect: 'deny', grantee: { email_domain: 'evil.example' }, resources: { all: true } });
      expect(created.status).toBe(201);
      const rule = created.body.rule as { id: string };
      expect(rule.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(created.body.description).toBe('Do not let anyone with a verified @evil.example email address access all your records.');
      expect((await call('DELETE', `/uma/rules/${rule.id}`, alice)).status).toBe(204);
    });

    it('refuses a second rule with an id the owner already uses', async () => {
      expect((await call('POST', '/uma/rules', alice, { ...cardiologist, id: 'twice' })).status).toBe(201);
      expectError(await call('POST', '/uma/rules', alice, { ...cardiologist, id: 'twice' }), 409, 'conflict', /already have a sharing rule with id twice/);
      await call('DELETE', '/uma/rules/twice', alice);
    });

    it('refuses a PUT whose body names another id', async () => {
      expectError(await call('PUT', '/uma/rules/one', alice, { ...cardiologist, id: 'two' }), 400, 'invalid_request', /id in the body/);
    });
  });

  describe('validation', () => {
    const valid = { effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { all: true } };
    const cases: [string, unknown, RegExp][] = [
      ['a body that is not an object', [1, 2], /must be a JSON object/],
      ['a missing effect', { grantee: valid.grantee, resources: valid.resources }, /^effect is required$/],
      ['an unknown effect', { ...valid, effect: 'maybe' }, /^effect must be one of allow, deny$/],
      ['an unknown member', { ...valid, colour: 'blue' }, /^the rule has an unknown member "colour"$/],
      ['a malformed email', { ...valid, grantee: { email: 'not an email' } }, /^grantee\/email must be an email address$/],
      ['a malformed email domain', { ...valid, grantee: { email_domain: 'clinic' } }, /^grantee\/email_domain must match/],
      ['two kinds of grantee', { ...valid, grantee: { email: 'dr@clinic.org', email_domain: 'clinic.org' } }, /grantee has an unknown member "email_domain"/],
      ['an issuer without a subject', { ...valid, grantee: { issuer: 'https://idp.example' } }, /^grantee\/subject is required$/],
      ['a grantee of no known kind', { ...valid, grantee: { phone: '123' } }, /^grantee must have exactly one of: email, email_domain, issuer and subject, claim$/],
      ['resources all false', { ...valid, resources: { all: false } }, /^resources\/all must be true$/],
      ['an empty id list', { ...valid, resources: { ids: [] } }, /^resources\/ids must NOT have fewer than 1 items$/],
      ['another owner’s resource id', { ...valid, resources: { ids: ['res-med', 'nope'] } }, /^resources\/ids\/1 names no resource of yours \(nope\)$/],
      ['a bad id', { ...valid, id: 'has space' }, /^id must be 1 to 64 letters/],
      ['a bad date', { ...valid, conditions: { valid_until: 'June' } }, /^conditions\/valid_until must be an RFC 3339 date-time/],
      ['a period that ends before it starts', { ...valid, conditions: { valid_from: FUTURE, valid_until: PAST } }, /valid_until must be later than conditions\/valid_from/],
      ['an empty scope list', { ...valid, scopes: [] }, /^scopes must NOT have fewer than 1 items$/],
    ];

    it.each(cases)('answers %s with a precise 400', async (_name, body, description) => {
      expectError(await call('POST', '/uma/rules', alice, body), 400, 'invalid_request', description);
    });

    it('validates a replacement too, and changes nothing when it is invalid', async () => {
      expect((await call('POST', '/uma/rules', alice, { ...valid, id: 'keep' })).status).toBe(201);
      expectError(await call('PUT', '/uma/rules/keep', alice, { ...valid, effect: 'perhaps' }), 400, 'invalid_request', /effect/);
      expect((await call('GET', '/uma/rules/keep', alice)).body.rule).toEqual({ ...valid, id: 'keep' });
      await call('DELETE', '/uma/rules/keep', alice);
    });

    it('wants JSON', async () => {
      expectError(await call('POST', '/uma/rules', alice, 'effect=allow', 'application/x-www-form-urlencoded'), 415, 'invalid_request', /application\/json/);
      expectError(await call('POST', '/uma/rules', alice, '{"effect":', 'application/json'), 400, 'invalid_request');
    });
  });

  describe('owners', () => {
    it('keeps each owner’s rules to themselves, ids included', async () => {
      const rule = { id: 'family', effect: 'allow', grantee: { email: 'mum@example.org' }, resources: { all: true } };
      expect((await call('POST', '/uma/rules', alice, rule)).status).toBe(201);

      expect((await call('GET', '/uma/rules', bob)).body.rules).toEqual([]);
      expectError(await call('GET', '/uma/rules/family', bob), 404, 'not_found');
      expectError(await call('PUT', '/uma/rules/family', bob, rule), 404, 'not_found');
      expectError(await call('DELETE', '/uma/rules/family', bob), 404, 'not_found');

      // Bob may name his own rule the same; each sees only theirs.
      const bobs = { ...rule, grantee: { email: 'dad@example.org' } };
      expect((await call('POST', '/uma/rules', bob, bobs)).status).toBe(201);
      expect((await call('GET', '/uma/rules/family', alice)).body.rule).toEqual(rule);
      expect((await call('GET', '/uma/rules/family', bob)).body.rule).toEqual(bobs);
      // Bob cannot name Alice's resources.
      expectError(await call('POST', '/uma/rules', bob, { ...rule, id: 'x', resources: { ids: ['res-med'] } }), 400, 'invalid_request', /no resource of yours/);

      await call('DELETE', '/uma/rules/family', alice);
      await call('DELETE', '/uma/rules/family', bob);
    });
  });

  describe('preview', () => {
    beforeAll(async () => {
      const rules = [
        { id: 'dr-meds', effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { types: ['medication'] }, scopes: ['read'] },
        { id: 'no-evil', effect: 'deny', grantee: { email_domain: 'evil.example' }, resources: { all: true } },
        { id: 'evil-meds', effect: 'allow', grantee: { email_domain: 'evil.example' }, resources: { all: true } },
        { id: 'old', effect: 'allow', grantee: { email: 'old@clinic.org' }, resources: { all: true }, conditions: { valid_until: PAST } },
        { id: 'later', effect: 'allow', grantee: { email: 'later@clinic.org' }, resources: { all: true }, conditions: { valid_from: FUTURE } },
      ];
      for (const rule of rules) expect((await call('POST', '/uma/rules', alice, rule)).status).toBe(201);
    });

    /** Answers for this suite's own resources (the seeded demo records are listed too). */
    const answers = (reply: Reply) =>
      Object.fromEntries(
        (reply.body.resources as { resource_id: string; scopes: { scope: string; answer: string; because: { id: string }[] }[] }[]).filter((row) => row.resource_id.startsWith('res-')).flatMap((row) =>
          row.scopes.map((cell) => [`${row.resource_id} ${cell.scope}`, `${cell.answer}${cell.because.length ? ` (${cell.because.map((b) => b.id).join(',')})` : ''}`]),
        ),
      );

    it('shows what an allowed party gets, scope by scope', async () => {
      const reply = await call('POST', '/uma/rules/preview', alice, { email: 'dr@clinic.org' });
      expect(reply.status).toBe(200);
      expect(answers(reply)).toEqual({ 'res-med read': 'yes (dr-meds)', 'res-med write': 'ask', 'res-lab read': 'ask' });
      const med = (reply.body.resources as { resource_id: string; name: string; scopes: { because: { description: string }[] }[] }[]).find((row) => row.resource_id === 'res-med')!;
      expect(med.name).toBe('Medication list');
      expect(med.scopes[0]!.because[0]!.description).toBe('Allow dr@clinic.org (verified email) to read every record of type medication.');
    });

    it('shows a deny rule winning over an allow rule', async () => {
      const reply = await call('POST', '/uma/rules/preview', alice, { email: 'mallory@evil.example' });
      expect(answers(reply)).toEqual({ 'res-med read': 'no (no-evil)', 'res-med write': 'no (no-evil)', 'res-lab read': 'no (no-evil)' });
    });

    it('does not count an expired or not yet valid rule', async () => {
      for (const email of ['old@clinic.org', 'later@clinic.org']) {
        expect(answers(await call('POST', '/uma/rules/preview', alice, { email }))).toEqual({ 'res-med read': 'ask', 'res-med write': 'ask', 'res-lab read': 'ask' });
      }
    });

    it('needs a verified email for an email rule', async () => {
      const reply = await call('POST', '/uma/rules/preview', alice, { email: 'dr@clinic.org', email_verified: false });
      expect(answers(reply)['res-med read']).toBe('ask');
    });

    it('uses a local account as it would prove itself', async () => {
      await call('POST', '/uma/rules', alice, { id: 'bob', effect: 'allow', grantee: { email: 'bob.other@example.org' }, resources: { ids: ['res-lab'] } });
      const reply = await call('POST', '/uma/rules/preview', alice, { email: 'bob.other@example.org' });
      expect((reply.body.requesting_party as { sub: string }).sub).toBe(await accountId(server.services, 'bob.other@example.org'));
      expect(answers(reply)['res-lab read']).toBe('yes (bob)');
      await call('DELETE', '/uma/rules/bob', alice);
    });

    it('records nothing: previews are not decisions', async () => {
      await call('POST', '/uma/rules/preview', alice, { email: 'dr@clinic.org' });
      await expect(server.services.decisions.ofOwner(aliceId, 'claims')).resolves.toEqual([]);
    });

    it('refuses a party it cannot identify', async () => {
      expectError(await call('POST', '/uma/rules/preview', alice, {}), 400, 'invalid_request', /by email, sub/);
      expectError(await call('POST', '/uma/rules/preview', alice, { email: 'nope' }), 400, 'invalid_request', /email must be an email address/);
      expectError(await call('POST', '/uma/rules/preview', alice, { email: 'dr@clinic.org', colour: 'x' }), 400, 'invalid_request', /unknown member "colour"/);
    });

    it('shows another owner nothing of Alice’s', async () => {
      const reply = await call('POST', '/uma/rules/preview', bob, { email: 'dr@clinic.org' });
      expect(reply.body.resources).toEqual([]);
    });
  });

  describe('explain', () => {
    it('explains the owner’s recorded decision and hides it from anyone else', async () => {
      const nurse = { id: 'nurse', effect: 'allow', grantee: { email: 'nurse@clinic.org' }, resources: { ids: ['res-med'] }, conditions: { valid_until: FUTURE } };
      expect((await call('POST', '/uma/rules', alice, nurse)).status).toBe(201);
      const input: ClaimsInput = {
        now: new Date().toISOString(),
        owner: { sub: aliceId },
        client: { client_id: 'demo-app' },
        requesting_party: { iss: 'https://idp.example', sub: 'nurse-1', email: 'nurse@clinic.org', email_verified: true },
        ticket: { resources: [{ resource_id: 'res-med', type: 'medication', resource_scopes: ['read'] }] },
        rules: (await server.services.sharingRules.ofOwner(aliceId)),
        approvals: [],
        refused_before: false,
      };
      const { result, record } = server.services.policy.decide('claims', input);
      expect(result.outcome).toBe('grant');
      await server.services.decisions.record(record);

      const reply = await call('GET', `/uma/decisions/${record.id}/explain`, alice);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id: record.id, entrypoint: 'claims', bundle_digest: server.services.policy.digest, outcome: 'grant', replayed_outcome: 'grant', matches: true });
      const rule = input.rules.find((r) => r.id === 'nurse')!;
      const description = describeRule(rule, new Map([['res-med', { name: 'Medication list', type: 'medication' }]]));
      expect(description).toBe('Allow nurse@clinic.org (verified email) to access your Medication list until 1 June 2099.');
      expect(reply.body.because).toEqual([{ id: 'nurse', kind: 'rule', description, now: 'unchanged' }]);
      expect(reply.body.input).toMatchObject({ owner: aliceId, client: 'demo-app', 'asked for': 'Medication list: read' });

      expectError(await call('GET', `/uma/decisions/${record.id}/explain`, bob), 404, 'not_found');
      expectError(await call('GET', '/uma/decisions/no-such-decision/explain', alice), 404, 'not_found');
    });
  });
});
