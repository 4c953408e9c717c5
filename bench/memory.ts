/**
 * `npm run bench:memory`: does the server's memory stay flat under a long stream of decisions, and
 * do start-up and the patient's access history stay fast with many decisions on disk? Not a test.
 *
 * 1. Load: Assent (embedded store, fresh data directory, its own child process on 127.0.0.1)
 *    serves N client_credentials token + introspection pairs (`--pairs`, default 1,000,000) from
 *    `--concurrency` workers (default 16), each pair a token request and the introspection of that
 *    token: two decisions and one token record per pair. The child's RSS and V8 heap are sampled
 *    every 2 s; the first `--warmup` pairs (default 20,000) are the warm-up.
 * 2. Start-up: 1,000,000 decisions (`--decisions`) are written through the decision log directly
 *    into a seeded data directory, 10,000 of them (`--owner-decisions`) claims decisions about the
 *    demo patient; then the time the server takes to start on it (startServer, in a fresh child).
 * 3. History: signed in as that patient, GET /account/sharing (the page with the access history),
 *    30 times after 3 warm-up requests.
 *
 * Bounded in count and in time (`--max-minutes`, default 120, for the load phase).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config/config.js';
import { DecisionLog } from '../server/policy/decision-log.js';
import { PolicyEngine, type DecisionRecord } from '../server/policy/engine.js';
import type { ClaimsInput } from '../server/policy/entrypoints.js';
import { openEmbeddedStore } from '../server/store/embedded.js';
import { Accounts } from '../server/store/repositories/accounts.js';
import { startChild, type RunningChild } from './support/children.js';
import { post } from './support/load.js';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '20000' },
    decisions: { type: 'string', default: '1000000' },
    'owner-decisions': { type: 'string', default: '10000' },
    'max-minutes': { type: 'string', default: '120' },
  },
});
const PAIRS = Number(args.pairs);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Math.min(Number(args.warmup), PAIRS);
const DECISIONS = Number(args.decisions);
const OWNER_DECISIONS = Math.min(Number(args['owner-decisions']), DECISIONS);
const MAX_MS = Number(args['max-minutes']) * 60_000;
const DEMO_EMAIL = 'alice@example.org';
const DEMO_PASSWORD = 'bench-memory-demo-password';
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support/assent-child.ts');

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const duBytes = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
const cpus = os.cpus();
const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');

interface Sample {
  pairs: number;
  rss: number;
  heapUsed: number;
}

/** Phase 1: the load, on a fresh data directory. */
async function loadPhase(dataDir: string) {
  const child = await startChild(CHILD, { BENCH_DATA_DIR: dataDir });
  const { ready } = child;
  const headers = {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(ready.clientId)}:${encodeURIComponent(ready.clientSecret)}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  const samples: Sample[] = [];
  let done = 0;
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  let warmedAt = began;
  const sampler = setInterval(() => void child.memory().then((m) => samples.push({ pairs: done, ...m })), 2000);
  try {
    const pair = async () => {
      const issued = await post(agent, ready.url, ready.tokenPath, headers, ready.tokenForm);
      const token = issued.status === 200 ? (JSON.parse(issued.body) as { access_token?: string }).access_token : undefined;
      if (!token) throw new Error(`POST ${ready.tokenPath} answered ${issued.status}: ${issued.body.slice(0, 200)}`);
      const answer = await post(agent, ready.url, ready.introspectionPath, headers, new URLSearchParams({ token }).toString());
      if (answer.status !== 200 || !answer.body.includes('"active":true')) throw new Error(`POST ${ready.introspectionPath} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    };
    const worker = async () => {
      while (started < PAIRS && performance.now() - began < MAX_MS) {
        started++;
        try {
          await pair();
        } catch (err) {
          errors++;
          firstError ??= String(err);
        }
        done++;
        if (done === WARMUP) warmedAt = performance.now();
        if (done % 50_000 === 0) process.stderr.write(`bench: ${fmt(done)} pairs, RSS ${mb(samples.at(-1)?.rss ?? 0)}\n`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ended = performance.now();
    clearInterval(sampler);
    const last = { pairs: done, ...(await child.memory()) };
    samples.push(last);
    const afterWarmup = samples.filter((s) => s.pairs >= WARMUP);
    return {
      done,
      errors,
      firstError,
      atWarmup: afterWarmup[0] ?? last,
      maxRss: Math.max(...afterWarmup.map((s) => s.rss)),
      last,
      pairsPerSecond: (done - WARMUP) / ((ended - warmedAt) / 1000),
    };
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await child.stop();
  }
}

function claimsInput(owner: string, i: number): ClaimsInput {
  return {
    now: new Date().toISOString(),
    owner: { sub: owner },
    client: { client_id: 'demo-app' },
    requesting_party: { iss: 'https://idp.example', sub: `dr-${i % 50}`, email: `dr${i % 50}@clinic.org`, email_verified: true },
    ticket: { resources: [{ resource_id: `res-${i % 20}`, type: 'Observation', resource_scopes: ['read'] }] },
    rules: [],
    approvals: [],
    refused_before: false,
  };
}

/**
 * Phase 2's data: a seeded data directory (the child's first start seeds the demo patient),
 * then DECISIONS decisions written through the log, spread over the last 300 days. Most are
 * copies of one introspection decision under fresh ids (deciding each anew would only cost time);
 * OWNER_DECISIONS are claims decisions about the demo patient.
 */
async function writeDecisions(dataDir: string) {
  const forked = performance.now();
  const first = await startChild(CHILD, { BENCH_DATA_DIR: dataDir, BENCH_DEMO_PASSWORD: DEMO_PASSWORD });
  const fresh = { readyMs: performance.now() - forked, startMs: first.ready.startMs ?? NaN };
  await first.stop();
  const config = loadConfig({ ASSENT_DATA_DIR: dataDir, ASSENT_LOG_LEVEL: 'silent' });
  const store = await openEmbeddedStore(dataDir);
  const engine = await PolicyEngine.open({ wasmFile: config.policyBundle });
  const log = await DecisionLog.open(store, engine, config);
  const began = performance.now();
  try {
    const owner = (await (await Accounts.open(store)).byEmail(DEMO_EMAIL))!._id;
    const introspection = engine.decide('introspection', { caller: { client_id: 'bench', fhir_base_urls: [] }, token: { client_id: 'bench', aud: ['bench'], token_type: 'Bearer' } }).record;
    const ownerEvery = Math.floor(DECISIONS / Math.max(OWNER_DECISIONS, 1));
    const start = Date.now() - 300 * 86_400_000;
    const step = (300 * 86_400_000) / DECISIONS;
    const BATCH = 2000;
    for (let i = 0; i < DECISIONS; i += BATCH) {
      const batch: DecisionRecord[] = [];
      for (let j = i; j < Math.min(i + BATCH, DECISIONS); j++) {
        const decidedAt = new Date(start + j * step);
        const record = OWNER_DECISIONS > 0 && j % ownerEvery === 0 && j / ownerEvery < OWNER_DECISIONS ? engine.decide('claims', claimsInput(owner, j)).record : introspection;
        batch.push({ ...record, id: randomUUID(), decidedAt });
      }
      await Promise.all(batch.map((record) => log.record(record)));
      if ((i + BATCH) % 200_000 === 0) process.stderr.write(`bench: ${fmt(i + BATCH)} decisions written\n`);
    }
  } finally {
    await log.close();
    await store.close();
  }
  return { fresh, writeSeconds: (performance.now() - began) / 1000 };
}

/** The session cookies of the demo patient, signed in through the login form. */
async function signIn(url: string): Promise<string> {
  const form = await fetch(`${url}/login`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error('GET /login: no csrf field');
  const cookies = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const signedIn = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies(form).join('; ') },
    body: new URLSearchParams({ csrf, email: DEMO_EMAIL, password: DEMO_PASSWORD }).toString(),
  });
  if (signedIn.status !== 303) throw new Error(`POST /login answered ${signedIn.status}`);
  return cookies(signedIn).join('; ');
}

/** Phase 2 and 3: start-up on the written data directory, then the history page. */
async function startupAndHistory(dataDir: string) {
  const forked = performance.now();
  const child: RunningChild = await startChild(CHILD, { BENCH_DATA_DIR: dataDir });
  const readyMs = performance.now() - forked;
  try {
    const { rss } = await child.memory();
    const cookie = await signIn(child.ready.url);
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 33; i++) {
      const began = performance.now();
      const page = await fetch(`${child.ready.url}/account/sharing`, { headers: { cookie }, redirect: 'manual' });
      const html = await page.text();
      if (page.status !== 200) throw new Error(`GET /account/sharing answered ${page.status}`);
      if (i >= 3) times.push(performance.now() - began);
      rows = (html.match(/\/account\/sharing\/decisions\//g) ?? []).length;
    }
    times.sort((a, b) => a - b);
    return { startMs: child.ready.startMs ?? NaN, readyMs, rss, rows, p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)! };
  } finally {
    await child.stop();
  }
}

const loadDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bench-memory-'));
const decisionsDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bench-decisions-'));
try {
  process.stderr.write(`bench: ${fmt(PAIRS)} token + introspection pairs, concurrency ${CONCURRENCY}, warm-up ${fmt(WARMUP)} pairs\n`);
  const load = await loadPhase(loadDir);
  const loadDisk = { all: duBytes(loadDir), decisions: duBytes(path.join(loadDir, 'decisions')) };
  await rm(loadDir, { recursive: true, force: true });
  process.stderr.write(`bench: writing ${fmt(DECISIONS)} decisions (${fmt(OWNER_DECISIONS)} about the demo patient)\n`);
  const written = await writeDecisions(decisionsDir);
  const disk = { all: duBytes(decisionsDir), index: duBytes(path.join(decisionsDir, 'decisions/index.sqlite')) };
  const later = await startupAndHistory(decisionsDir);

  console.log(`\n## Memory under load: ${fmt(load.done)} client_credentials token + introspection pairs (concurrency ${CONCURRENCY}, warm-up ${fmt(WARMUP)} pairs)\n`);
  console.log('| measure | value |');
  console.log('|---|--:|');
  console.log(`| RSS after warm-up | ${mb(load.atWarmup.rss)} (heap ${mb(load.atWarmup.heapUsed)}) |`);
  console.log(`| RSS max after warm-up | ${mb(load.maxRss)} |`);
  console.log(`| RSS at the end | ${mb(load.last.rss)} (heap ${mb(load.last.heapUsed)}) |`);
  console.log(`| throughput after warm-up | ${fmt(load.pairsPerSecond)} pairs/s |`);
  console.log(`| data directory at the end | ${mb(loadDisk.all)} (decision log ${mb(loadDisk.decisions)}) |`);
  console.log(`| errors | ${load.errors}${load.firstError ? ` (first: ${load.firstError})` : ''} |`);
  if (load.done < PAIRS) console.log(`| stopped early | after ${args['max-minutes']} minutes |`);
  console.log(`\n## ${fmt(DECISIONS)} decisions on disk (${fmt(OWNER_DECISIONS)} about one patient)\n`);
  console.log('| measure | value |');
  console.log('|---|--:|');
  console.log(`| writing them through the log | ${fmt(written.writeSeconds, 1)} s (${fmt(DECISIONS / written.writeSeconds)} /s) |`);
  console.log(`| data directory | ${mb(disk.all)} (index ${mb(disk.index)}) |`);
  console.log(`| server start-up (startServer) | ${fmt(later.startMs)} ms |`);
  console.log(`| fork to ready (process, modules, start-up, client registration) | ${fmt(later.readyMs)} ms |`);
  console.log(`| the same two on the empty data directory (first start, seeding the demo data) | ${fmt(written.fresh.startMs)} ms / ${fmt(written.fresh.readyMs)} ms |`);
  console.log(`| RSS after start-up | ${mb(later.rss)} |`);
  console.log(`| GET /account/sharing as that patient, p50 / max of 30 | ${fmt(later.p50, 1)} ms / ${fmt(later.max, 1)} ms (${later.rows} history rows) |`);
  console.log(`\nmachine: cpu="${cpus[0]?.model.trim() ?? 'unknown'}" cores=${cpus.length} node=${process.version} ` +
    `loadavg_at_start="${loadAtStart}" loadavg_at_end="${os.loadavg().map((l) => l.toFixed(2)).join(' ')}"`);
} finally {
  await rm(loadDir, { recursive: true, force: true });
  await rm(decisionsDir, { recursive: true, force: true });
}
