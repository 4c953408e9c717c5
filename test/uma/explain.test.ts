import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { formatExplanation } from '../../scripts/explain.js';
import { projectRoot } from '../../server/config/config.js';
import { DecisionLog } from '../../server/policy/decision-log.js';
import { PolicyEngine } from '../../server/policy/engine.js';
import type { ClaimsInput } from '../../server/policy/entrypoints.js';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { openMongoStore } from '../../server/store/mongo.js';
import type { Store } from '../../server/store/port.js';
import { Resources } from '../../server/store/repositories/resources.js';
import { SharingRules, type SharingRule } from '../../server/store/repositories/sharing-rules.js';
import { explainDecision } from '../../server/uma/sharing/explain.js';
import { consentCases } from '../policy/fixtures.js';
import { forgeDecisionResult } from '../support/decisions.js';
import { disposeStore, storeBackends, testMongoUri } from '../support/stores.js';

/**
 * "Why was this access allowed?": a real claims decision recorded through the decision log,
 * explained in-process and by `npm run explain` (scripts/explain.ts) as a child process against
 * the configured store.
 */

const OWNER = 'owner-1';
const DR_RULE: SharingRule = { id: 'dr', effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { types: ['medication'] }, scopes: ['read'], conditions: { valid_until: '2099-06-01T00:00:00Z' } };

function claimsInput(rules: SharingRule[], overrides: Partial<ClaimsInput> = {}): ClaimsInput {
  return {
    now: new Date().toISOString(),
    owner: { sub: OWNER },
    client: { client_id: 'demo-app' },
    requesting_party: { iss: 'https://idp.example', sub: 'dr-1', email: 'dr@clinic.org', email_verified: true, name: 'Dr Example' },
    ticket: { resources: [{ resource_id: 'res-med', type: 'medication', resource_scopes: ['read'] }] },
    rules,
    approvals: [],
    refused_before: false,
    ...overrides,
  };
}

interface Fixture {
  store: Store;
  dataDir: string;
  engine: PolicyEngine;
  decisions: DecisionLog;
  sharingRules: SharingRules;
  resources: Resources;
}

function openDecisions(store: Store, engine: PolicyEngine, dataDir: string) {
  return DecisionLog.open(store, engine, { dataDir, decisionRetentionDays: 400, decisionSegmentBytes: 1 << 20 });
}

/** The log of the embedded store lives beside it in `dataDir`, which the MongoDB store does not use. */
async function fixture(store: Store, dataDir: string): Promise<Fixture> {
  const engine = await PolicyEngine.open();
  const resources = await Resources.open(store);
  const now = new Date();
  await resources.register({ _id: 'res-med', ownerId: OWNER, resourceServerId: 'rs', name: 'Medication list', type: 'medication', resource_scopes: ['read', 'write'], createdAt: now, updatedAt: now });
  const sharingRules = await SharingRules.open(store);
  await sharingRules.add(OWNER, DR_RULE);
  return { store, dataDir, engine, decisions: await openDecisions(store, engine, dataDir), sharingRules, resources };
}

/** Decides and records a claims decision, as the uma-ticket grant does. */
async function recorded(f: Fixture, input: ClaimsInput) {
  const { result, record } = f.engine.decide('claims', input);
  await f.decisions.record(record);
  return { result, record };
}

describe.each(storeBackends)('explaining decisions on the $name store', ({ open }) => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture(await open(), await mkdtemp(path.join(tmpdir(), 'assent-explain-log-')));
  });
  afterEach(async () => {
    await f.decisions.close();
    await disposeStore(f.store);
    await rm(f.dataDir, { recursive: true, force: true });
  });

  it('replays a grant and names the rule that gave it', async () => {
    const { record } = await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)));
    const explanation = await explainDecision(f, record.id);
    expect(explanation).toMatchObject({ id: record.id, entrypoint: 'claims', bundleDigest: f.engine.digest, ownerId: OWNER, outcome: 'grant', replayedOutcome: 'grant', matches: true });
    expect(explanation!.because).toEqual([
      { id: 'dr', kind: 'rule', now: 'unchanged', description: 'Allow dr@clinic.org (verified email) to read every record of type medication until 1 June 2099.' },
    ]);
    expect(explanation!.input).toEqual(
      expect.arrayContaining([
        { label: 'requesting party', value: 'Dr Example <dr@clinic.org> (dr-1 at https://idp.example)' },
        { label: 'asked for', value: 'Medication list: read' },
      ]),
    );

    const text = formatExplanation(explanation!);
    expect(text).toMatch(new RegExp(`^decision +${record.id}$`, 'm'));
    expect(text).toMatch(new RegExp(`^bundle +sha256:${f.engine.digest}$`, 'm'));
    expect(text).toMatch(/^outcome +grant$/m);
    expect(text).toMatch(/^matches +yes/m);
    expect(text).toMatch(/^because +dr: Allow dr@clinic\.org \(verified email\) to read every record of type medication until 1 June 2099\. \(rule unchanged since\)$/m);
  });

  it('lists the decision in the owner’s history only', async () => {
    const { record } = await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)));
    await f.decisions.record(f.engine.decide('consent', consentCases[0]!.input).record);
    expect((await f.decisions.ofOwner(OWNER, 'claims')).map((r) => r.id)).toEqual([record.id]);
    await expect(f.decisions.ofOwner('someone-else', 'claims')).resolves.toEqual([]);
    await expect(explainDecision(f, record.id, 'someone-else')).resolves.toBeNull();
    await expect(explainDecision(f, record.id, OWNER)).resolves.toMatchObject({ id: record.id });
    await expect(explainDecision(f, 'no-such-decision')).resolves.toBeNull();
  });

  it('tells a rule changed or deleted since from the one that decided', async () => {
    const { record } = await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)));
    await f.sharingRules.replace(OWNER, { ...DR_RULE, scopes: ['read', 'write'] });
    const changed = await explainDecision(f, record.id);
    // The sentence is the rule as it was when it decided.
    expect(changed!.because).toEqual([expect.objectContaining({ id: 'dr', now: 'changed', description: expect.stringContaining('to read every record') })]);
    await f.sharingRules.remove(OWNER, 'dr');
    expect((await explainDecision(f, record.id))!.because).toEqual([expect.objectContaining({ id: 'dr', now: 'deleted' })]);
    expect((await explainDecision(f, record.id))!.matches).toBe(true);
  });

  it('explains the owner’s own access as hers, not as a rule', async () => {
    const { record } = await recorded(f, claimsInput([], { requesting_party: { iss: 'https://as.example', sub: OWNER }, requesting_account: { sub: OWNER } }));
    const explanation = await explainDecision(f, record.id);
    expect(explanation).toMatchObject({ outcome: 'grant', matches: true });
    expect(explanation!.because).toEqual([{ id: 'owner', kind: 'owner', now: 'n/a', description: 'It was you: you always have your own records.' }]);
    expect(formatExplanation(explanation!)).toMatch(/^because +owner: It was you: you always have your own records\. \(the owner’s own access\)$/m);
  });

  it('names the deny rule behind a denial and the approval behind a one-off grant', async () => {
    const deny: SharingRule = { id: 'no-clinic', effect: 'deny', grantee: { email_domain: 'clinic.org' }, resources: { all: true } };
    const denied = await recorded(f, claimsInput([DR_RULE, deny]));
    expect(denied.result.outcome).toBe('request_denied');
    expect((await explainDecision(f, denied.record.id))!.because).toEqual([
      expect.objectContaining({ id: 'no-clinic', kind: 'rule', description: 'Do not let anyone with a verified @clinic.org email address access all your records.' }),
    ]);

    const approval = { id: 'ap-1', requesting_party: { iss: 'https://idp.example', sub: 'dr-1' }, resource_id: 'res-med', resource_scopes: ['read'], expires_at: '2099-01-01T00:00:00Z' };
    const approved = await recorded(f, claimsInput([], { approvals: [approval] }));
    expect(approved.result.outcome).toBe('grant');
    const explanation = await explainDecision(f, approved.record.id);
    expect(explanation!.because).toEqual([{ id: 'approval:ap-1', kind: 'approval', now: 'n/a', description: 'You approved a request for Medication list (read), valid until 1 January 2099.' }]);
    expect(formatExplanation(explanation!)).toMatch(/^because +approval:ap-1: You approved .* \(one-off approval\)$/m);
  });

  it('says when the replay no longer matches the record', async () => {
    const { record, result } = await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)));
    await f.decisions.close();
    await forgeDecisionResult(f, record.id, { ...result, outcome: 'request_denied', because: [] });
    f.decisions = await openDecisions(f.store, f.engine, f.dataDir);
    const explanation = await explainDecision(f, record.id);
    expect(explanation).toMatchObject({ outcome: 'request_denied', replayedOutcome: 'grant', matches: false });
    expect(formatExplanation(explanation!)).toMatch(/^matches +NO/m);
  });
});

/** A store the child process can find again through its configuration. */
const locatedBackends = [
  {
    name: 'embedded',
    async open() {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-explain-'));
      return { store: await openEmbeddedStore(dataDir), dataDir, env: { ASSENT_DATA_DIR: dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'mongodb',
    async open() {
      const uri = testMongoUri();
      const db = `assent_explain_${process.pid}_${randomBytes(6).toString('hex')}`;
      const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-explain-'));
      return {
        store: await openMongoStore(uri, db),
        dataDir,
        env: { ASSENT_MONGODB_URI: uri, ASSENT_MONGODB_DB: db, ASSENT_KEY_SECRET: 'test-key-secret-test-key-secret-0123456789' },
        async dispose() {
          const client = new MongoClient(uri);
          try {
            await client.db(db).dropDatabase();
          } finally {
            await client.close();
            await rm(dataDir, { recursive: true, force: true });
          }
        },
      };
    },
  },
];

function runExplain(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ASSENT_') && name !== 'NODE_OPTIONS'));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/explain.ts', ...args], { cwd: projectRoot, env: { ...clean, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe.each(locatedBackends)('npm run explain on the $name store', (backend) => {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  let granted: string;
  let tampered: string;

  beforeAll(async () => {
    const opened = await backend.open();
    env = opened.env;
    dispose = opened.dispose;
    const f = await fixture(opened.store, opened.dataDir);
    granted = (await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)))).record.id;
    const second = await recorded(f, claimsInput(await f.sharingRules.ofOwner(OWNER)));
    tampered = second.record.id;
    // The script opens the store itself (the embedded one belongs to one process at a time).
    await f.decisions.close();
    await forgeDecisionResult(f, tampered, { ...second.result, outcome: 'request_submitted', permissions: [], because: [] });
    await opened.store.close();
  });
  afterAll(() => dispose());

  it('prints the outcome, the replay and the rule behind it', async () => {
    const { code, stdout, stderr } = await runExplain([granted], env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^decision +${granted}$`, 'm'));
    expect(stdout).toMatch(/^entrypoint +claims$/m);
    expect(stdout).toMatch(/^bundle +sha256:[0-9a-f]{64}$/m);
    expect(stdout).toMatch(/^decided at +\d{4}-\d{2}-\d{2}T/m);
    expect(stdout).toMatch(/^asked for +Medication list: read$/m);
    expect(stdout).toMatch(/^outcome +grant$/m);
    expect(stdout).toMatch(/^matches +yes/m);
    expect(stdout).toMatch(/^because +dr: Allow dr@clinic\.org \(verified email\) to read every record of type medication until 1 June 2099\./m);
  });

  it('exits 3 when the replay does not match', async () => {
    const { code, stdout } = await runExplain([tampered], env);
    expect(code).toBe(3);
    expect(stdout).toMatch(/^outcome +request_submitted$/m);
    expect(stdout).toMatch(/^replayed +grant$/m);
    expect(stdout).toMatch(/^matches +NO/m);
  });

  it('exits 1 for an unknown decision and 2 without one', async () => {
    const unknown = await runExplain(['no-such-decision'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no decision with id no-such-decision');
    const usage = await runExplain([], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run explain -- <decision id>');
  });
});
