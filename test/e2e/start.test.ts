import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { verifyPassword } from '../../server/crypto/password.js';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { Accounts } from '../../server/store/repositories/accounts.js';
import { launchServer, stopServer } from '../support/server-process.js';

describe('starting the server from the command line', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-e2e-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  test('a fresh embedded store is seeded once; key and data survive a restart; SIGTERM stops cleanly', async () => {
    const first = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    const url = await first.listening;
    const jwks = await (await fetch(`${url}/jwks`)).json();
    const password = /alice@example\.org\s+password: (\S+)/.exec(first.output().stdout)?.[1];
    expect(password).toBeDefined();
    expect(await stopServer(first)).toBe(0);

    const second = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    const url2 = await second.listening;
    expect(await (await fetch(`${url2}/jwks`)).json()).toEqual(jwks);
    expect(second.output().stdout).not.toContain('Demo data loaded');
    expect(await stopServer(second)).toBe(0);

    const store = await openEmbeddedStore(dataDir);
    const alice = await (await Accounts.open(store)).byEmail('alice@example.org');
    expect(alice && (await verifyPassword(password as string, alice.passwordHash as string))).toBe(true);
    await store.close();
  });

  test('an invalid setting stops start-up with a message naming it, a non-zero exit and nothing written', async () => {
    const target = path.join(dataDir, 'never-created');
    const run = launchServer({ ASSENT_PORT: 'http', ASSENT_DATA_DIR: target });
    await expect(run.listening).rejects.toThrow();
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toContain('ASSENT_PORT (port): must be integer');
    expect(existsSync(target)).toBe(false);
  });
});
