/**
 * client_credentials token issuance and RFC 7662 introspection, Assent (embedded store) against
 * panva's oidc-provider configured equivalently, at several concurrencies. Each server runs in
 * its own child process on a 127.0.0.1 ephemeral port; this process only generates load, with
 * the same keep-alive node:http client for both. Run with `npm run bench:token`.
 *
 * Environment: BENCH_SECONDS (measured seconds per cell, default 5), BENCH_WARMUP_SECONDS
 * (default 1), BENCH_ONLY (Assent or oidc-provider, e.g. for profiling), BENCH_CPU_PROF=<dir>
 * (the server children write V8 CPU profiles there).
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type RunningChild } from './support/children.js';
import { post, runCell, type CellResult, type PostTarget } from './support/load.js';
import type { ServerReady } from './support/protocol.js';

const CONCURRENCIES = [1, 16, 64];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
/** Distinct tokens each server introspects, round-robin. */
const INTROSPECTED_TOKENS = 64;
const OPERATIONS = ['token', 'introspect'] as const;
type Operation = (typeof OPERATIONS)[number];

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILDREN = [
  { name: 'Assent', entry: path.join(here, 'support/assent-child.ts') },
  { name: 'oidc-provider', entry: path.join(here, 'support/oidc-provider-child.ts') },
];

interface Subject {
  child: RunningChild;
  ready: ServerReady;
  targets: Record<Operation, PostTarget>;
}

function basicAuth(ready: ServerReady): string {
  const credentials = `${encodeURIComponent(ready.clientId)}:${encodeURIComponent(ready.clientSecret)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** Checks the server answers as expected and builds what the cells send. */
async function prepare(child: RunningChild): Promise<Subject> {
  const { ready } = child;
  const headers = { authorization: basicAuth(ready), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const json = async (urlPath: string, form: string) => {
    const answer = await post(agent, ready.url, urlPath, headers, form);
    if (answer.status !== 200) throw new Error(`${ready.name} POST ${urlPath} (${form}) answered ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body) as Record<string, unknown>;
  };
  try {
    const issued = await json(ready.tokenPath, ready.tokenForm);
    const [header] = String(issued.access_token).split('.');
    const { alg, typ } = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8') || '{}') as { alg?: string; typ?: string };
    if (alg !== 'ES256' || typ !== 'at+jwt' || issued.scope !== 'uma_authorization') {
      throw new Error(`${ready.name}: expected an ES256 at+jwt access token with scope uma_authorization, got ${JSON.stringify({ alg, typ, scope: issued.scope })}`);
    }
    const tokens: string[] = [];
    for (let i = 0; i < INTROSPECTED_TOKENS; i++) tokens.push(String((await json(ready.tokenPath, ready.introspectedTokenForm)).access_token));
    for (const token of [tokens[0]!, tokens.at(-1)!]) {
      const details = await json(ready.introspectionPath, new URLSearchParams({ token }).toString());
      if (details.active !== true || details.client_id !== ready.clientId || details.scope !== 'uma_authorization') {
        throw new Error(`${ready.name}: introspection answered ${JSON.stringify(details)}`);
      }
    }
    const introspectBodies = tokens.map((token) => new URLSearchParams({ token }).toString());
    return {
      child,
      ready,
      targets: {
        token: { url: ready.url, path: ready.tokenPath, headers, body: () => ready.tokenForm, ok: (b) => b.includes('"access_token"') },
        introspect: {
          url: ready.url,
          path: ready.introspectionPath,
          headers,
          body: (i) => introspectBodies[i % introspectBodies.length]!,
          ok: (b) => b.includes('"active":true'),
        },
      },
    };
  } finally {
    agent.destroy();
  }
}

const fmt = (n: number, digits = 1) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

const cpus = os.cpus();
const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
const only = process.env.BENCH_ONLY;
const chosen = CHILDREN.filter((c) => !only || c.name === only);
if (chosen.length === 0) throw new Error(`BENCH_ONLY=${only}: no such server (${CHILDREN.map((c) => c.name).join(', ')})`);

const children: RunningChild[] = [];
/** A cell's result with the server's CPU time per request (warm-up included), which drifts less with machine load than throughput. */
const results = new Map<string, CellResult & { cpuMs: number }>();
const key = (server: string, op: Operation, concurrency: number) => `${server}|${op}|${concurrency}`;
try {
  for (const { entry } of chosen) children.push(await startChild(entry));
  const subjects: Subject[] = [];
  for (const child of children) subjects.push(await prepare(child));
  process.stderr.write(`bench: both servers answer correctly; ${OPERATIONS.length * CONCURRENCIES.length * subjects.length} cells of ${WARMUP_SECONDS} s warm-up + ${SECONDS} s\n`);
  // Servers alternate cell by cell, so drift in the machine's load touches both alike.
  for (const op of OPERATIONS) {
    for (const concurrency of CONCURRENCIES) {
      for (const subject of subjects) {
        const cpuBefore = await subject.child.cpuMicros();
        const cell = await runCell(subject.targets[op], concurrency, WARMUP_SECONDS * 1000, SECONDS * 1000);
        const result = { ...cell, cpuMs: ((await subject.child.cpuMicros()) - cpuBefore) / 1000 / cell.sent };
        results.set(key(subject.ready.name, op, concurrency), result);
        process.stderr.write(`bench: ${subject.ready.name} ${op} c=${concurrency}: ${fmt(result.perSecond, 0)} req/s` +
          `${result.errors ? `, ${result.errors} errors (first: ${result.firstError})` : ''}\n`);
      }
    }
  }
} finally {
  await Promise.all(children.map((c) => c.stop()));
}

const LABEL: Record<Operation, string> = { token: 'client_credentials token', introspect: 'introspection' };
console.log(`\nclient_credentials (scope uma_authorization, ES256 JWT access tokens) and introspection; ` +
  `${WARMUP_SECONDS} s warm-up + ${SECONDS} s per cell, keep-alive node:http client, one connection per concurrent request\n`);
console.log('| operation | concurrency | server | req/s | p50 ms | p99 ms | server CPU ms/req | requests | errors (non-2xx) |');
console.log('|---|--:|---|--:|--:|--:|--:|--:|--:|');
for (const op of OPERATIONS) {
  for (const concurrency of CONCURRENCIES) {
    for (const { name } of chosen) {
      const r = results.get(key(name, op, concurrency));
      if (!r) continue;
      console.log(`| ${LABEL[op]} | ${concurrency} | ${name} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.cpuMs, 3)} | ${r.requests} | ${r.errors} |`);
    }
  }
}
if (chosen.length === 2) {
  console.log('\nAssent / oidc-provider (throughput above 1 and latency below 1 favour Assent)\n');
  console.log('| operation | concurrency | req/s ratio | p50 ratio | p99 ratio | CPU/req ratio |');
  console.log('|---|--:|--:|--:|--:|--:|');
  for (const op of OPERATIONS) {
    for (const concurrency of CONCURRENCIES) {
      const a = results.get(key('Assent', op, concurrency));
      const o = results.get(key('oidc-provider', op, concurrency));
      if (!a || !o) continue;
      console.log(`| ${LABEL[op]} | ${concurrency} | ${fmt(a.perSecond / o.perSecond, 2)}× | ${fmt(a.p50Ms / o.p50Ms, 2)}× | ${fmt(a.p99Ms / o.p99Ms, 2)}× | ${fmt(a.cpuMs / o.cpuMs, 2)}× |`);
    }
  }
}
console.log(`\nmachine: cpu="${cpus[0]?.model.trim() ?? 'unknown'}" cores=${cpus.length} node=${process.version} ` +
  `loadavg_at_start="${loadAtStart}" loadavg_at_end="${os.loadavg().map((l) => l.toFixed(2)).join(' ')}"`);
console.log('notes: Assent stores each access token and each policy decision (embedded store); oidc-provider keeps nothing for a JWT ' +
  'access token. oidc-provider cannot introspect JWT access tokens, so its introspection cells use opaque tokens (in-memory adapter ' +
  'lookup) while Assent verifies the ES256 JWT and looks up its record.');
