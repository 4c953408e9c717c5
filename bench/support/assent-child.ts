/**
 * Assent on the embedded store in a temporary data directory, for bench/token.ts and
 * bench/memory.ts. Registers its own confidential client: the demo resource server's registered
 * scope has only user scopes and uma_protection, which the `consent` policy denies without a user.
 * BENCH_DATA_DIR: use (and keep) this data directory instead; BENCH_DEMO_PASSWORD: the demo
 * patient's password.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config/config.js';
import { startServer } from '../../server/runtime.js';
import { serveParent, tell } from './protocol.js';

const SCOPE = 'uma_authorization';

const kept = process.env.BENCH_DATA_DIR;
const dataDir = kept ?? (await mkdtemp(path.join(os.tmpdir(), 'assent-bench-')));
const removeDataDir = () => (kept ? Promise.resolve() : rm(dataDir, { recursive: true, force: true }));
try {
  const config = loadConfig({
    ASSENT_DATA_DIR: dataDir,
    ASSENT_LOG_LEVEL: 'silent',
    ASSENT_PORT: '0',
    ASSENT_HOST: '127.0.0.1',
    ...(process.env.BENCH_DEMO_PASSWORD ? { ASSENT_DEMO_PASSWORD: process.env.BENCH_DEMO_PASSWORD } : {}),
  });
  const started = performance.now();
  const running = await startServer(config);
  const startMs = performance.now() - started;
  serveParent(async () => {
    await running.close();
    await removeDataDir();
  });
  const registered = await fetch(`${running.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench client_credentials client',
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
    }),
  });
  const client = (await registered.json()) as { client_id?: string; client_secret?: string };
  if (registered.status !== 201 || !client.client_id || !client.client_secret) {
    throw new Error(`POST /register answered ${registered.status}: ${JSON.stringify(client)}`);
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString();
  tell({
    type: 'ready',
    name: 'Assent',
    url: running.url,
    tokenPath: '/token',
    introspectionPath: '/introspect',
    clientId: client.client_id,
    clientSecret: client.client_secret,
    tokenForm: form,
    introspectedTokenForm: form,
    startMs,
  });
} catch (err) {
  tell({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  await removeDataDir();
  process.exit(1);
}
