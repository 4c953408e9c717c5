import { readPreviewForm, readRuleForm, ruleFromForm } from '../../server/http/rule-form.js';
import type { ResourceDocument } from '../../server/store/repositories/resources.js';
import type { AccessRequestDocument } from '../../server/store/repositories/uma-requests.js';
import { validateRule } from '../../server/uma/sharing/validation.js';
import { clientIdsOf, doneMessage, sharingPage, type SharingData } from '../../server/views/sharing.js';

/**
 * The dashboard's form mapping and view model without HTTP: both are pure, so the page's contents
 * follow from the data alone (the HTTP behaviour is dashboard.test.ts's).
 */

const at = new Date('2026-06-01T00:00:00Z');
const resource = (id: string, name: string, type: string, scopes: string[]): ResourceDocument => ({
  _id: id, ownerId: 'alice', resourceServerId: 'rs', name, type, resource_scopes: scopes, createdAt: at, updatedAt: at,
});

describe('the add-rule form', () => {
  it('maps a filled-in form to a schema-valid rule', () => {
    const form = readRuleForm({
      effect: 'deny', grantee_type: 'email_domain', grantee: '@clinic.org', resource: 'type:lab', scope: ['read', ''], more_scopes: ' write  read ',
      valid_until: '2027-01-31', any_email: 'on', note: '  why  ',
    });
    const body = ruleFromForm(form);
    expect(body).toEqual({
      effect: 'deny',
      grantee: { email_domain: 'clinic.org' },
      resources: { types: ['lab'] },
      scopes: ['read', 'write'],
      conditions: { valid_until: '2027-01-31T00:00:00Z', email_verified: false },
      note: 'why',
    });
    expect(validateRule(body, 'r1')).toMatchObject({ id: 'r1', effect: 'deny' });
  });

  it('maps an empty form to an allow for all records, and leaves the grantee for validation to refuse', () => {
    expect(ruleFromForm(readRuleForm({}))).toEqual({ effect: 'allow', grantee: { email: '' }, resources: { all: true } });
    expect(ruleFromForm(readRuleForm({ resource: 'id:res-1', scope: 'read' }))).toMatchObject({ resources: { ids: ['res-1'] }, scopes: ['read'] });
  });
});

describe('the preview form', () => {
  it('names the party as typed (trimmed), with an unverified email and a claim', () => {
    const { party, previewForm } = readPreviewForm({ email: ' dr@clinic.org ', unverified: 'on', claim_name: ' role ', claim_value: 'doctor' });
    expect(party).toEqual({ email: 'dr@clinic.org', email_verified: false, claims: { role: 'doctor' } });
    expect(previewForm).toMatchObject({ email: ' dr@clinic.org ', unverified: true });
    expect(readPreviewForm({}).previewForm.unverified).toBe(false);
  });
});

describe('the dashboard view model', () => {
  const request: AccessRequestDocument = {
    _id: 'req-1',
    ownerId: 'alice',
    clientId: 'demo-app',
    requestingParty: { iss: 'https://idp.example', sub: 'dr-7', email: 'dr@clinic.org', email_verified: true, name: 'Dr Who' },
    permissions: [{ resource_id: 'res-lab', resource_scopes: ['read', 'write'] }],
    permissionKey: 'res-lab:read write',
    status: 'pending',
    createdAt: at,
    decisionId: 'd1',
  };
  const data: SharingData = {
    email: 'alice@example.org',
    csrf: 'token',
    rules: [{ id: 'r1', effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { ids: ['res-lab'] }, scopes: ['read'] }],
    resources: [resource('res-lab', 'Lab results', 'lab', ['read', 'write']), resource('res-med', 'Medication list', 'medication', ['read'])],
    requests: [request],
    rpts: [{ jti: 'j1', clientId: 'gone-app', issuedAt: at, expiresAt: at }],
    history: [],
    clientNames: new Map([['demo-app', 'Demo patient app']]),
  };

  it('says everything in plain language, naming clients by their names (or ids)', () => {
    const page = sharingPage(data, { done: doneMessage('rule-added') });
    expect(page).toMatchObject({
      email: 'alice@example.org',
      csrf: 'token',
      done: 'The rule was added.',
      rules: [{ id: 'r1', description: 'Allow dr@clinic.org (verified email) to read your Lab results.', deny: false }],
      requests: [{ id: 'req-1', party: 'Dr Who <dr@clinic.org>', client: 'Demo patient app', since: '1 June 2026', asked: [{ name: 'Lab results', scopes: 'read, write' }] }],
      rpts: [{ jti: 'j1', client: 'gone-app' }],
    });
    expect(clientIdsOf(data)).toEqual(['demo-app', 'gone-app']);
    expect(doneMessage('nonsense')).toBeUndefined();
  });

  it('offers every type, record and scope, with the form as it was filled in', () => {
    const page = sharingPage(data, { ruleForm: { resource: 'type:lab', scopes: ['write'], effect: 'deny' }, error: 'no' });
    expect(page.resourceOptions).toEqual([
      { value: 'all', label: 'All your records', selected: false },
      { value: 'type:lab', label: 'Every record of type lab', selected: true },
      { value: 'type:medication', label: 'Every record of type medication', selected: false },
      { value: 'id:res-lab', label: 'Lab results (lab)', selected: false },
      { value: 'id:res-med', label: 'Medication list (medication)', selected: false },
    ]);
    expect(page.scopeOptions).toEqual([{ name: 'read', checked: false }, { name: 'write', checked: true }]);
    expect(page).toMatchObject({ error: 'no', form: { deny: true, domain: false } });
  });
});
