/**
 * The consent decision evaluated in-process (wasm, PolicyEngine) against the same Rego served by
 * the pinned OPA (`opa run --server`, topdown evaluation of policies/, the sources the wasm is
 * built from) over loopback HTTP with keep-alive. Run with `npm run bench:policy`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PolicyEngine } from '../server/policy/engine.js';
import type { ConsentInput } from '../server/policy/entrypoints.js';
import { REPO_ROOT } from '../server/policy/paths.js';

const OPA = path.join(REPO_ROOT, '.tools/bin/opa');
const IN_PROCESS = { warmup: 5_000, iterations: 50_000 };
const OVER_HTTP = { warmup: 500, iterations: 5_000 };
const CONCURRENCY = 16;

interface Row {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
}

/** A patient with 50 grants to 12 apps; a SMART app asks for 10 scopes (some granted before). */
function realisticInput(): ConsentInput {
  const resources = ['Patient', 'Observation', 'Condition', 'MedicationRequest', 'AllergyIntolerance', 'Immunization'];
  const clinical = resources.flatMap((r) => [`patient/${r}.rs`, `patient/${r}.cruds`, `user/${r}.rs`]);
  const known = ['openid', 'profile', 'email', 'fhirUser', 'launch', 'launch/patient', 'offline_access', ...clinical];
  const clients = Array.from({ length: 12 }, (_, i) => `app-${i}`);
  const prior_grants = Array.from({ length: 50 }, (_, i) => ({
    client_id: clients[i % clients.length]!,
    scopes: known.slice(i % 7, (i % 7) + 3 + (i % 4)),
    granted_at: new Date(Date.UTC(2024, i % 12, 1 + (i % 28))).toISOString(),
  }));
  return {
    now: '2025-06-01T09:30:00Z',
    client: { client_id: 'app-3', allowed_scopes: ['openid', 'fhirUser', 'launch/patient', 'offline_access', ...clinical.slice(0, 9)] },
    user: { sub: 'patient-7f3a' },
    requested_scopes: ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'profile', 'patient/Patient.rs',
      'patient/Observation.rs', 'patient/Condition.cruds', 'user/Immunization.rs', 'patient/Genome.rs'],
    known_scopes: known,
    prior_grants,
  };
}

function summarise(name: string, samples: number[], elapsedNs: number): Row {
  const sorted = samples.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000;
  return { name, perSecond: (samples.length / elapsedNs) * 1e9, p50: at(0.5), p99: at(0.99) };
}

function benchInProcess(engine: PolicyEngine, input: ConsentInput): Row {
  for (let i = 0; i < IN_PROCESS.warmup; i++) engine.decide('consent', input);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < IN_PROCESS.iterations; i++) {
    const t = process.hrtime.bigint();
    engine.decide('consent', input);
    samples.push(Number(process.hrtime.bigint() - t));
  }
  return summarise('in-process wasm (PolicyEngine.decide)', samples, Number(process.hrtime.bigint() - start));
}

async function benchOverHttp(query: () => Promise<unknown>, connections: number): Promise<Row> {
  const run = async (count: number, samples?: number[]) => {
    let left = count;
    const worker = async () => {
      while (left-- > 0) {
        const t = process.hrtime.bigint();
        await query();
        samples?.push(Number(process.hrtime.bigint() - t));
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
  };
  await run(OVER_HTTP.warmup);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  await run(OVER_HTTP.iterations, samples);
  const label = connections === 1 ? '1 connection' : `${connections} connections`;
  return summarise(`OPA ${opaVersion} server, HTTP keep-alive, ${label}`, samples, Number(process.hrtime.bigint() - start));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function post(agent: http.Agent, port: number, urlPath: string, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          else reject(new Error(`OPA answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8')}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startOpa(port: number): Promise<ChildProcess> {
  const opa = spawn(OPA, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error',
    path.join(REPO_ROOT, 'policies/consent/consent.rego')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    const healthy = await new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/health' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (healthy) return opa;
    if (opa.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  opa.kill();
  throw new Error('OPA server did not become healthy');
}

function stopOpa(opa: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (opa.exitCode !== null) return resolve();
    opa.once('exit', () => resolve());
    opa.kill('SIGTERM');
  });
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

if (!existsSync(OPA)) {
  console.error(`bench: ${OPA} is missing; run npm run tools:install`);
  process.exit(1);
}
const opaVersion = await new Promise<string>((resolve) => {
  const out: Buffer[] = [];
  spawn(OPA, ['version']).stdout.on('data', (c: Buffer) => out.push(c)).on('end', () => {
    resolve(/^Version: (.+)$/m.exec(Buffer.concat(out).toString())?.[1] ?? 'unknown');
  });
});

const engine = await PolicyEngine.open();
const input = realisticInput();
const expected = engine.decide('consent', input).result;
const rows = [benchInProcess(engine, input)];

const port = await freePort();
const opa = await startOpa(port);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
try {
  const body = JSON.stringify({ input });
  const query = () => post(agent, port, '/v1/data/assent/consent/decision', body);
  const served = (await query()) as { result?: unknown };
  if (!isDeepStrictEqual(served.result, expected)) throw new Error('OPA server and wasm disagree on the decision');
  rows.push(await benchOverHttp(query, 1), await benchOverHttp(query, CONCURRENCY));
} finally {
  agent.destroy();
  await stopOpa(opa);
}

const [inProcess] = rows as [Row, ...Row[]];
console.log(`consent decision: ${input.prior_grants.length} prior grants, ${input.requested_scopes.length} requested scopes; both give the same decision\n`);
console.log('| evaluator | decisions/s | p50 µs | p99 µs | in-process throughput ÷ this |');
console.log('|---|--:|--:|--:|--:|');
for (const row of rows) {
  console.log(`| ${row.name} | ${fmt(row.perSecond, 0)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${fmt(inProcess.perSecond / row.perSecond)}× |`);
}
const cpus = os.cpus();
const load = os.loadavg().map((l) => l.toFixed(2)).join(',');
console.log(`\nmachine: cpu="${cpus[0]?.model.trim() ?? 'unknown'}" cores=${cpus.length} loadavg=${load} node=${process.version} ` +
  `opa=${opaVersion} input_bytes=${JSON.stringify(input).length} in_process_iterations=${IN_PROCESS.iterations} ` +
  `http_iterations=${OVER_HTTP.iterations}`);
