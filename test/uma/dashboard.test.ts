import type { ClaimsInput } from '../../server/policy/entrypoints.js';
import type { AccessRequestDocument, ApprovalDocument } from '../../server/store/repositories/uma-requests.js';
import { APPROVAL_LIFETIME_SECONDS } from '../../server/uma/sharing/requests.js';
import { formOf, hiddenFields, textOf, type BrowserlessUser, type Page } from '../support/browserless-user.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { accountId, addResource, createAccount, signedIn } from './sharing-support.js';

/**
 * The sharing dashboard (/account/sharing) over HTTP, as a person with a cookie jar uses it:
 * rules in plain language, the preview, pending requests, RPTs, access history and "why?".
 */

const DR = { iss: 'https://idp.example', sub: 'dr-7', email: 'dr.who@clinic.org', email_verified: true, name: 'Dr Who' };

describe.each(storeBackends)('sharing dashboard on the $name store', (backend) => {
  let server: TestServer;
  let alice: BrowserlessUser;
  let bob: BrowserlessUser;
  let aliceId: string;

  const sharingPage = async (user: BrowserlessUser) => {
    const page = await user.get('/account/sharing');
    expect(page.status).toBe(200);
    return page;
  };
  /** Submits the page's form for `action` with its hidden fields plus `fields`. */
  const submit = async (user: BrowserlessUser, page: Page, action: RegExp, fields: [string, string][], filter: (hidden: [string, string][]) => [string, string][] = (h) => h) =>
    user.post(formOf(page, action).action, [...filter(hiddenFields(formOf(page, action))), ...fields]);
  // White-box set-up and checks: the UMA collections, opened from the store (the repository's are its own).
  const requestsOf = () => server.services.store.collection<AccessRequestDocument>('uma_requests');
  const approvalsOf = () => server.services.store.collection<ApprovalDocument>('uma_approvals');
  const csrfOf = (page: Page) => hiddenFields(formOf(page, /\/account\/sharing\/rules$/)).find(([name]) => name === 'csrf')![1];
  const pendingRequest = (id: string, ownerId: string, permissions = [{ resource_id: 'res-lab', resource_scopes: ['read'] }]): AccessRequestDocument => ({
    _id: id,
    ownerId,
    clientId: 'demo-app',
    requestingParty: DR,
    permissions,
    permissionKey: permissions.map((p) => `${p.resource_id}:${p.resource_scopes.join(',')}`).join(';'),
    status: 'pending',
    createdAt: new Date(),
    decisionId: 'decision-that-asked',
  });

  beforeAll(async () => {
    server = await startTestServer(backend);
    aliceId = await accountId(server.services);
    await createAccount(server.services, 'bob.other@example.org');
    await addResource(server.services, aliceId, { id: 'res-med', name: 'Medication list', type: 'medication', scopes: ['read', 'write'] });
    await addResource(server.services, aliceId, { id: 'res-lab', name: 'Lab results', type: 'lab', scopes: ['read'] });
    alice = await signedIn(server.url);
    bob = await signedIn(server.url, 'bob.other@example.org');
  });
  afterAll(() => server.stop());

  it('sends a stranger to sign in', async () => {
    const response = await fetch(`${server.url}/account/sharing`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!, server.url).pathname).toBe('/login');
  });

  it('is linked from the account page', async () => {
    const page = await alice.get('/account');
    expect(page.html).toContain('href="/account/sharing"');
  });

  it('adds a rule from the form and shows it in plain language', async () => {
    const page = await sharingPage(alice);
    expect(textOf(page.html)).toContain('You have no sharing rules');
    const response = await submit(alice, page, /\/account\/sharing\/rules$/, [
      ['effect', 'allow'],
      ['grantee_type', 'email'],
      ['grantee', 'dr@clinic.org'],
      ['resource', 'type:medication'],
      ['scope', 'read'],
      ['valid_until', '2030-06-01'],
      ['note', 'my cardiologist'],
    ]);
    expect(response.status).toBe(303);
    expect(response.location?.pathname).toBe('/account/sharing');
    const after = await alice.follow(response);
    const text = textOf(after.html);
    expect(text).toContain('The rule was added.');
    expect(text).toContain('Allow dr@clinic.org (verified email) to read every record of type medication until 1 June 2030.');
    expect(text).toContain('my cardiologist');
    expect(await server.services.sharingRules.ofOwner(aliceId)).toEqual([
      expect.objectContaining({ effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { types: ['medication'] }, scopes: ['read'], conditions: { valid_until: '2030-06-01T00:00:00Z' } }),
    ]);
  });

  it('adds a deny rule for a whole domain', async () => {
    const response = await submit(alice, await sharingPage(alice), /\/account\/sharing\/rules$/, [
      ['effect', 'deny'],
      ['grantee_type', 'email_domain'],
      ['grantee', '@evil.example'],
      ['resource', 'all'],
    ]);
    expect(response.status).toBe(303);
    expect(textOf((await sharingPage(alice)).html)).toContain('Do not let anyone with a verified @evil.example email address access all your records.');
  });

  it('shows what is wrong with a rule and keeps what was typed', async () => {
    const before = (await server.services.sharingRules.ofOwner(aliceId)).length;
    const response = await submit(alice, await sharingPage(alice), /\/account\/sharing\/rules$/, [
      ['effect', 'allow'],
      ['grantee_type', 'email'],
      ['grantee', 'not an email'],
      ['resource', 'id:res-lab'],
      ['note', 'typed <b>note</b>'],
    ]);
    expect(response.status).toBe(400);
    expect(textOf(response.html)).toContain('grantee/email must be an email address');
    expect(response.html).toContain('value="not an email"');
    expect(response.html).toContain('value="typed &lt;b&gt;note&lt;/b&gt;"');
    expect(response.html).toMatch(/<option value="id:res-lab" selected>/);
    expect(await server.services.sharingRules.ofOwner(aliceId)).toHaveLength(before);
  });

  it('requires the CSRF token on every form', async () => {
    const page = await sharingPage(alice);
    const before = (await server.services.sharingRules.ofOwner(aliceId)).length;
    const fields: [string, string][] = [['effect', 'allow'], ['grantee_type', 'email'], ['grantee', 'x@y.example'], ['resource', 'all']];
    const withoutCsrf = (hidden: [string, string][]) => hidden.filter(([name]) => name !== 'csrf');
    expect((await submit(alice, page, /\/account\/sharing\/rules$/, fields, withoutCsrf)).status).toBe(403);
    expect((await submit(alice, page, /\/account\/sharing\/rules$/, [['csrf', 'forged'], ...fields], withoutCsrf)).status).toBe(403);
    // Bob's own token does not work in Alice's session, nor Alice's in Bob's.
    expect((await submit(bob, page, /\/account\/sharing\/rules$/, fields)).status).toBe(403);
    expect((await bob.post('/account/sharing/preview', [['csrf', csrfOf(page)], ['email', 'dr@clinic.org']])).status).toBe(403);
    expect((await alice.post('/account/sharing/requests', [['request_id', 'x'], ['decision', 'deny']])).status).toBe(403);
    expect((await alice.post('/account/sharing/rpts/revoke', [['jti', 'x']])).status).toBe(403);
    expect((await alice.post('/account/sharing/rules/delete', [['rule_id', 'x']])).status).toBe(403);
    expect(await server.services.sharingRules.ofOwner(aliceId)).toHaveLength(before);
  });

  it('previews who can see what for an email', async () => {
    const response = await submit(alice, await sharingPage(alice), /\/account\/sharing\/preview$/, [['email', 'dr@clinic.org']]);
    expect(response.status).toBe(200);
    const text = textOf(response.html);
    expect(text).toContain('What dr@clinic.org would get');
    expect(text).toMatch(/Medication list \(medication\) read can see Allow dr@clinic\.org/);
    expect(text).toMatch(/Medication list \(medication\) write you would be asked/);
    expect(text).toMatch(/Lab results \(lab\) read you would be asked/);
    expect(response.html).toContain('value="dr@clinic.org"');

    const blocked = textOf((await submit(alice, await sharingPage(alice), /\/account\/sharing\/preview$/, [['email', 'eve@evil.example']])).html);
    expect(blocked).toMatch(/Lab results \(lab\) read blocked Do not let anyone/);

    const unverified = textOf((await submit(alice, await sharingPage(alice), /\/account\/sharing\/preview$/, [['email', 'dr@clinic.org'], ['unverified', 'on']])).html);
    expect(unverified).toMatch(/Medication list \(medication\) read you would be asked/);

    const empty = await submit(alice, await sharingPage(alice), /\/account\/sharing\/preview$/, []);
    expect(empty.status).toBe(400);
    expect(textOf(empty.html)).toContain('name the requesting party');
  });

  describe('pending requests', () => {
    it('approves once: a one-off approval that expires', async () => {
      await (await requestsOf()).insert(pendingRequest('req-once', aliceId));
      const page = await sharingPage(alice);
      expect(textOf(page.html)).toMatch(/Dr Who <dr\.who@clinic\.org> through Demo patient app, .* wants Lab results: read/);
      const response = await alice.post('/account/sharing/requests', [['csrf', csrfOf(page)], ['request_id', 'req-once'], ['decision', 'once']]);
      expect(response.status).toBe(303);
      expect(textOf((await alice.follow(response)).html)).toContain('Approved once');

      expect(await (await requestsOf()).findOne({ _id: 'req-once' })).toMatchObject({ status: 'approved', decidedAt: expect.any(Date) });
      const approvals = await (await approvalsOf()).find({ ownerId: aliceId, requestId: 'req-once' });
      expect(approvals).toEqual([expect.objectContaining({ requestingParty: { iss: DR.iss, sub: DR.sub }, resource_id: 'res-lab', resource_scopes: ['read'] })]);
      const lifetime = approvals[0]!.expiresAt.getTime() - Date.now();
      expect(Math.abs(lifetime - APPROVAL_LIFETIME_SECONDS * 1000)).toBeLessThan(60_000);

      // The claims policy now lets exactly that party have exactly that.
      const preview = textOf((await submit(alice, await sharingPage(alice), /\/account\/sharing\/preview$/, [['iss', DR.iss], ['sub', DR.sub]])).html);
      expect(preview).toMatch(/Lab results \(lab\) read can see You approved a request for Lab results \(read\)/);
      expect(preview).toMatch(/Medication list \(medication\) read you would be asked/);
    });

    it('approves always: a rule for that account', async () => {
      await (await requestsOf()).insert(pendingRequest('req-always', aliceId, [{ resource_id: 'res-med', resource_scopes: ['write', 'read'] }]));
      const page = await sharingPage(alice);
      const response = await alice.post('/account/sharing/requests', [['csrf', csrfOf(page)], ['request_id', 'req-always'], ['decision', 'always']]);
      expect(response.status).toBe(303);
      const text = textOf((await alice.follow(response)).html);
      expect(text).toContain(`Allow the account ${DR.sub} at ${DR.iss} to read and write your Medication list.`);
      expect(text).toContain('Approved from an access request by Dr Who <dr.who@clinic.org>');
      expect(await (await requestsOf()).findOne({ _id: 'req-always' })).toMatchObject({ status: 'approved' });
      const rules = await server.services.sharingRules.ofOwner(aliceId);
      expect(rules).toContainEqual(expect.objectContaining({ effect: 'allow', grantee: { issuer: DR.iss, subject: DR.sub }, resources: { ids: ['res-med'] }, scopes: ['read', 'write'] }));
    });

    it('denies, once only, and only the owner', async () => {
      await (await requestsOf()).insert(pendingRequest('req-deny', aliceId));
      await (await requestsOf()).insert(pendingRequest('req-not-bobs', aliceId));
      const page = await sharingPage(alice);
      const response = await alice.post('/account/sharing/requests', [['csrf', csrfOf(page)], ['request_id', 'req-deny'], ['decision', 'deny']]);
      expect(response.status).toBe(303);
      expect(await (await requestsOf()).findOne({ _id: 'req-deny' })).toMatchObject({ status: 'denied' });

      const again = await alice.post('/account/sharing/requests', [['csrf', csrfOf(page)], ['request_id', 'req-deny'], ['decision', 'once']]);
      expect(again.status).toBe(404);
      expect(textOf(again.html)).toContain('you have no pending request with this id');
      await expect((await approvalsOf()).count({ requestId: 'req-deny' })).resolves.toBe(0);

      const bobPage = await sharingPage(bob);
      expect(textOf(bobPage.html)).not.toContain('Dr Who');
      expect((await bob.post('/account/sharing/requests', [['csrf', csrfOf(bobPage)], ['request_id', 'req-not-bobs'], ['decision', 'once']])).status).toBe(404);
      expect(await (await requestsOf()).findOne({ _id: 'req-not-bobs' })).toMatchObject({ status: 'pending' });

      const bad = await alice.post('/account/sharing/requests', [['csrf', csrfOf(page)], ['request_id', 'req-not-bobs'], ['decision', 'maybe']]);
      expect(bad.status).toBe(400);
    });
  });

  it('lists active RPTs and revokes one', async () => {
    const issue = () =>
      server.services.tokenService.issueAccessToken({
        clientId: 'demo-app',
        accountId: aliceId,
        subject: DR.sub,
        scopes: ['uma'],
        audience: 'demo-resource-server',
        claims: { permissions: [{ resource_id: 'res-lab', resource_scopes: ['read'] }] },
      });
    const rpt = await issue();
    const page = await sharingPage(alice);
    expect(textOf(page.html)).toMatch(/Access tokens in use Demo patient app issued/);
    expect(page.html).toContain(`value="${rpt.jti}"`);

    expect((await bob.post('/account/sharing/rpts/revoke', [['csrf', csrfOf(await sharingPage(bob))], ['jti', rpt.jti]])).status).toBe(404);
    await expect(server.services.tokenService.verifyAccessToken(rpt.token)).resolves.toBeTruthy();

    const response = await submit(alice, page, /\/account\/sharing\/rpts\/revoke$/, []);
    expect(response.status).toBe(303);
    await expect(server.services.tokenService.verifyAccessToken(rpt.token)).resolves.toBeUndefined();
    expect(textOf((await alice.follow(response)).html)).toContain('Nobody holds an access token to your records right now.');
  });

  it('shows the access history and explains a decision to its owner only', async () => {
    const rules = await server.services.sharingRules.ofOwner(aliceId);
    const input: ClaimsInput = {
      now: new Date().toISOString(),
      owner: { sub: aliceId },
      client: { client_id: 'demo-app' },
      requesting_party: { iss: 'https://idp.example', sub: 'dr-1', email: 'dr@clinic.org', email_verified: true },
      ticket: { resources: [{ resource_id: 'res-med', type: 'medication', resource_scopes: ['read'] }] },
      rules,
      approvals: [],
      refused_before: false,
    };
    const { result, record } = server.services.policy.decide('claims', input);
    expect(result.outcome).toBe('grant');
    await server.services.decisions.record(record);

    const page = await sharingPage(alice);
    expect(textOf(page.html)).toMatch(/dr@clinic\.org through Demo patient app: Medication list: read allowed why\?/);
    expect(page.html).toContain(`href="/account/sharing/decisions/${record.id}"`);
    expect(textOf((await sharingPage(bob)).html)).toContain('Nobody has asked for your records yet.');

    const explained = await alice.get(`/account/sharing/decisions/${record.id}`);
    expect(explained.status).toBe(200);
    const text = textOf(explained.html);
    expect(text).toContain('The answer: allowed');
    expect(text).toContain('the same answer');
    expect(text).toContain(server.services.policy.digest);
    expect(text).toContain('Allow dr@clinic.org (verified email) to read every record of type medication until 1 June 2030.');
    expect(text).toContain('asked for Medication list: read');

    expect((await bob.get(`/account/sharing/decisions/${record.id}`)).status).toBe(404);
    expect((await alice.get('/account/sharing/decisions/no-such-decision')).status).toBe(404);
  });

  it('deletes a rule', async () => {
    const page = await sharingPage(alice);
    const form = formOf(page, /\/account\/sharing\/rules\/delete$/);
    const ruleId = hiddenFields(form).find(([name]) => name === 'rule_id')![1];
    const response = await alice.post(form.action, hiddenFields(form));
    expect(response.status).toBe(303);
    expect(textOf((await alice.follow(response)).html)).toContain('The rule was deleted.');
    expect((await server.services.sharingRules.ofOwner(aliceId)).map((r) => r.id)).not.toContain(ruleId);
    expect((await alice.post('/account/sharing/rules/delete', hiddenFields(form))).status).toBe(404);
  });
});
