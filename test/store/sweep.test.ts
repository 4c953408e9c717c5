import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../server/logger.js';
import { startServer, type RunningServer } from '../../server/runtime.js';
import { DuplicateKeyError, type Store } from '../../server/store/port.js';
import type { AccessTokenDocument } from '../../server/store/repositories/tokens.js';
import { testConfig } from '../support/server.js';
import { disposeStore, storeBackends } from '../support/stores.js';

const LIMIT = 3;
const EXPIRED = 7;

describe.each(storeBackends)('the running server on the $name store', (backend) => {
  let store: Store;
  let server: RunningServer;
  let dataDir: string;
  const sweeps: number[] = [];

  beforeAll(async () => {
    const config = await testConfig({ ASSENT_SWEEP_INTERVAL_SECONDS: '1', ASSENT_SWEEP_LIMIT: String(LIMIT) });
    dataDir = config.dataDir;
    store = await backend.open();
    const record = (message: string, fields: Record<string, unknown> = {}) => {
      if (message === 'maintenance' && fields.task === 'expiry sweep') sweeps.push(Number(fields.reclaimed));
    };
    const logger: Logger = { debug: record, info: record, warn: record, error: record };
    server = await startServer(config, { store, seedDemo: false, logger });
  });
  afterAll(async () => {
    await server.close();
    await disposeStore(store);
    await rm(dataDir, { recursive: true, force: true });
  });

  test(`reclaims expired documents on its schedule, at most ${LIMIT} per collection per run`, async () => {
    // White-box setup: the raw collection, to store tokens that have expired already.
    const tokens = await server.services.store.collection<AccessTokenDocument>('access_tokens');
    const token = (n: number, expiresAt: Date): AccessTokenDocument => ({ _id: `swept-${n}`, clientId: 'c', scopes: [], issuedAt: new Date(), expiresAt });
    const expired = Array.from({ length: EXPIRED }, (_, n) => token(n, new Date(Date.now() - 1000)));
    for (const doc of expired) await tokens.insert(doc);
    await tokens.insert(token(99, new Date(Date.now() + 3_600_000)));

    while (sweeps.filter((n) => n > 0).length < Math.ceil(EXPIRED / LIMIT)) await sleep(100);
    expect(sweeps.filter((n) => n > 0)).toEqual([3, 3, 1]);
    // Gone, not merely hidden: their ids are free again; the live token is untouched.
    for (const doc of expired) await tokens.insert(doc);
    await expect(tokens.insert(token(99, new Date()))).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await tokens.count({ _id: 'swept-99' })).toBe(1);
  }, 30_000);
});
