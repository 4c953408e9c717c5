/**
 * `npm run bench:uma`: the full UMA cycle — permission ticket (resource server, PAT) → RPT
 * (client, uma-ticket grant with a pushed ID token, decided by the claims policy) → RPT
 * introspection (resource server) — against Assent on the embedded store, for an owner with
 * 1,000 registered resources and 100 sharing rules. Bounded: a warm-up, then a fixed duration per
 * concurrency level. Prints a markdown table and the machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config/config.js';
import { startServer } from '../server/runtime.js';

const RESOURCES = 1_000;
const RULES = 100;
const WARMUP_MS = 2_000;
const DURATION_MS = 8_000;
const CONCURRENCY = [1, 8];

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bench-uma-'));
const running = await startServer(loadConfig({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir, ASSENT_LOG_LEVEL: 'silent' }), { seedDemo: true });
const { services, url } = running;

try {
  const alice = (await services.accounts.byEmail('alice@example.org'))!;
  const rsSecret = running.seeded!.clientSecrets.find((c) => c.clientId === 'demo-resource-server')!.secret;
  const rsAuth = `Basic ${Buffer.from(`demo-resource-server:${rsSecret}`).toString('base64')}`;
  const pat = (await services.tokenService.issueAccessToken({ clientId: 'demo-resource-server', accountId: alice._id, subject: alice._id, scopes: ['uma_protection'] })).token;

  const types = ['MedicationStatement', 'Observation', 'Condition', 'AllergyIntolerance', 'Immunization'];
  const now = new Date();
  for (let i = 0; i < RESOURCES; i++) {
    await services.resources.register({
      _id: `res-${i}`, ownerId: alice._id, resourceServerId: 'demo-resource-server', name: `Resource ${i}`,
      type: types[i % types.length]!, resource_scopes: ['read', 'write'], createdAt: now, updatedAt: now,
    });
  }
  for (let i = 0; i < RULES - 1; i++) {
    await services.sharingRules.add(alice._id, { id: `rule-${i}`, effect: 'allow', grantee: { email: `someone${i}@clinic.org` }, resources: { types: [types[i % types.length]!] } });
  }
  await services.sharingRules.add(alice._id, { id: 'rule-dr', effect: 'allow', grantee: { email: 'dr@clinic.org' }, resources: { types: ['MedicationStatement'] }, scopes: ['read'] });

  const dr = await services.accounts.create({ email: 'dr@clinic.org', name: 'Dr Bench', emailVerified: true });
  const registered = await (await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'bench', grant_types: ['urn:ietf:params:oauth:grant-type:uma-ticket'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'uma_authorization' }),
  })).json() as { client_id: string; client_secret: string };
  const clientAuth = `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`;
  const idToken = await services.tokenService.issueIdToken({ account: dr, clientId: registered.client_id, scopes: ['openid', 'email'], authTime: Math.floor(Date.now() / 1000), accessToken: 'x' });

  const form = 'application/x-www-form-urlencoded';
  async function cycle(i: number) {
    const resource = `res-${(i * types.length) % RESOURCES}`; // always a MedicationStatement
    const ticketRes = await fetch(`${url}/uma/permission`, { method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: JSON.stringify({ resource_id: resource, resource_scopes: ['read'] }) });
    const { ticket } = (await ticketRes.json()) as { ticket: string };
    const rptRes = await fetch(`${url}/token`, {
      method: 'POST', headers: { authorization: clientAuth, 'content-type': form },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', ticket, claim_token: idToken, claim_token_format: 'http://openid.net/specs/openid-connect-core-1_0.html#IDToken' }),
    });
    const { access_token } = (await rptRes.json()) as { access_token?: string };
    if (!access_token) throw new Error(`no RPT (status ${rptRes.status})`);
    const introspected = (await (await fetch(`${url}/introspect`, { method: 'POST', headers: { authorization: rsAuth, 'content-type': form }, body: new URLSearchParams({ token: access_token }) })).json()) as { active: boolean };
    if (!introspected.active) throw new Error('RPT not active at introspection');
  }

  await cycle(0);
  const rows: string[] = [];
  for (const concurrency of CONCURRENCY) {
    const samples: number[] = [];
    let errors = 0;
    let counter = 0;
    const run = async (until: number, record: boolean) => {
      while (Date.now() < until) {
        const started = process.hrtime.bigint();
        try {
          await cycle(counter++);
          if (record) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => run(Date.now() + WARMUP_MS, false)));
    const start = Date.now();
    await Promise.all(Array.from({ length: concurrency }, () => run(start + DURATION_MS, true)));
    const elapsed = (Date.now() - start) / 1000;
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
    rows.push(`| ${concurrency} | ${(samples.length / elapsed).toFixed(1)} | ${at(0.5).toFixed(2)} | ${at(0.99).toFixed(2)} | ${errors} |`);
  }
  console.log(`machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`owner with ${RESOURCES} resources and ${RULES} sharing rules; cycle = permission ticket → RPT → introspection\n`);
  console.log('| concurrency | cycles/s | p50 ms | p99 ms | errors |\n|--:|--:|--:|--:|--:|');
  console.log(rows.join('\n'));
} finally {
  await running.close();
  await rm(dataDir, { recursive: true, force: true });
}
