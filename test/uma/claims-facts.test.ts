import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { REPO_ROOT } from '../../server/policy/paths.js';
import type { AccountDocument } from '../../server/store/repositories/accounts.js';
import type { ResourceDocument } from '../../server/store/repositories/resources.js';
import type { SharingRule } from '../../server/store/repositories/sharing-rules.js';
import type { ApprovalDocument, RequestingParty } from '../../server/store/repositories/uma-requests.js';
import { claimsFacts, claimsInput, ownerFacts, permissionKey, type ClaimsFactsDeps } from '../../server/uma/claims-facts.js';

const ISSUER = 'https://as.example';
const OWNER = 'alice';
const DR: RequestingParty = { iss: 'https://idp.example', sub: 'dr-1', email: 'dr@clinic.org', email_verified: true };
const RULE: SharingRule = { id: 'dr', effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { types: ['medication'] }, scopes: ['read'] };
const APPROVAL: ApprovalDocument = {
  _id: 'approval-1',
  ownerId: OWNER,
  requestId: 'req-1',
  requestingParty: { iss: DR.iss, sub: DR.sub },
  resource_id: 'res-lab',
  resource_scopes: ['read'],
  expiresAt: new Date('2099-01-01T00:00:00Z'),
};

/** The claims facts' store reads, answered from memory; `asked` records what was asked. */
function fakeDeps(linkedAccount: string | undefined) {
  const asked: string[] = [];
  const deps: ClaimsFactsDeps = {
    config: { issuer: ISSUER },
    sharingRules: { ofOwner: async (owner) => (asked.push(`rules ${owner}`), [RULE]) },
    uma: {
      approvals: { of: async (owner, party) => (asked.push(`approvals ${owner} ${party.sub}`), [APPROVAL]) },
      requests: { refusedBefore: async (owner, party, key) => (asked.push(`refused ${owner} ${party.sub} ${key}`), true) },
    },
    resources: { byIds: async (ids) => ids.filter((id) => id === 'res-med').map((id) => ({ _id: id, type: 'medication' }) as ResourceDocument) },
    identities: { find: async () => (linkedAccount ? ({ accountId: linkedAccount } as never) : null) },
    accounts: { byId: async () => null, usable: async (sub) => (sub === linkedAccount ? ({ _id: sub } as AccountDocument) : null) },
  };
  return { deps, asked };
}

describe('the claims input builder', () => {
  const permissions = [{ resource_id: 'res-med', resource_scopes: ['read'] }, { resource_id: 'res-lab', resource_scopes: ['write', 'read'] }];

  it('gathers the facts of a real ticket, valid against the claims input schema', async () => {
    const { deps, asked } = fakeDeps('dr-account');
    const input = await claimsFacts(deps, { ownerId: OWNER, clientId: 'app', permissions, party: DR });
    expect(input).toEqual({
      now: expect.any(String),
      owner: { sub: OWNER },
      client: { client_id: 'app' },
      requesting_party: DR,
      requesting_account: { sub: 'dr-account' },
      ticket: { resources: [{ resource_id: 'res-med', resource_scopes: ['read'], type: 'medication' }, { resource_id: 'res-lab', resource_scopes: ['write', 'read'] }] },
      rules: [RULE],
      approvals: [{ id: 'approval-1', requesting_party: { iss: DR.iss, sub: DR.sub }, resource_id: 'res-lab', resource_scopes: ['read'], expires_at: '2099-01-01T00:00:00.000Z' }],
      refused_before: true,
    });
    expect(asked).toContain(`refused ${OWNER} dr-1 ${permissionKey(permissions)}`);

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    formats.default(ajv);
    ajv.addSchema(JSON.parse(await readFile(`${REPO_ROOT}schemas/sharing-rule.schema.json`, 'utf8')));
    const valid = ajv.compile(JSON.parse(await readFile(`${REPO_ROOT}schemas/policy/claims.input.schema.json`, 'utf8')));
    expect(valid(input) ? [] : valid.errors).toEqual([]);
  });

  it('asks nothing about a party before anyone is identified', async () => {
    const { deps, asked } = fakeDeps(undefined);
    const input = await claimsFacts(deps, { ownerId: OWNER, clientId: 'app', permissions, party: undefined });
    expect(input).not.toHaveProperty('requesting_party');
    expect(input).not.toHaveProperty('requesting_account');
    expect(input).toMatchObject({ approvals: [], refused_before: false });
    expect(asked).toEqual([`rules ${OWNER}`]);
  });

  it('builds a hypothetical question from facts gathered once', async () => {
    const { deps } = fakeDeps(undefined);
    const facts = await ownerFacts(deps, OWNER, DR);
    const now = new Date('2026-01-01T00:00:00Z');
    const input = claimsInput({ ownerId: OWNER, clientId: 'preview', party: DR, resources: [{ resource_id: 'res-med', resource_scopes: ['read'] }], refusedBefore: false }, facts, now);
    expect(input).toMatchObject({ now: '2026-01-01T00:00:00.000Z', client: { client_id: 'preview' }, rules: [RULE], approvals: [{ id: 'approval-1' }], refused_before: false });
  });

  it('recognises the same permissions in any order', () => {
    expect(permissionKey([{ resource_id: 'b', resource_scopes: ['write', 'read'] }, { resource_id: 'a', resource_scopes: [] }])).toBe(
      permissionKey([{ resource_id: 'a', resource_scopes: [] }, { resource_id: 'b', resource_scopes: ['read', 'write'] }]),
    );
  });
});
