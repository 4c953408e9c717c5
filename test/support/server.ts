import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config/config.js';
import { startServer, type RunningServer } from '../../server/runtime.js';
import { disposeStore, type StoreBackend } from './stores.js';

export interface TestServer extends RunningServer {
  /** Stops the server and throws away its store and data directory. */
  stop(): Promise<void>;
}

export const DEMO_PASSWORD = 'correct horse battery staple';

/** Configuration for a test server: ephemeral port, temporary data dir, quiet logs. */
export async function testConfig(env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-test-'));
  return loadConfig({
    ASSENT_PORT: '0',
    ASSENT_DATA_DIR: dataDir,
    ASSENT_LOG_LEVEL: 'silent',
    ASSENT_DEMO_PASSWORD: DEMO_PASSWORD,
    ASSENT_KEY_SECRET: 'test-key-secret-test-key-secret-0123456789',
    ...env,
  });
}

/** The real server on an ephemeral loopback port over a fresh store of the backend, demo data seeded. */
export async function startTestServer(backend: StoreBackend, env: Record<string, string> = {}): Promise<TestServer> {
  const config = await testConfig(env);
  const store = await backend.open();
  const running = await startServer(config, { store, seedDemo: true });
  return {
    ...running,
    async stop() {
      await running.close();
      await disposeStore(store);
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}
