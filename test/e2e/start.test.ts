import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { verifyPassword } from '../../server/crypto/password.js';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { Accounts } from '../../server/store/repositories/accounts.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { killLeftoverServers, launchServer, stopServer } from '../support/server-process.js';

describe('starting the server from the command line', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-e2e-'));
  });
  afterEach(async () => {
    await killLeftoverServers();
    await rm(dataDir, { recursive: true, force: true });
  });

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
    expect(await stopServer(second)).toBe(0);

    const store = await openEmbeddedStore(dataDir);
    const alice = await (await Accounts.open(store)).byEmail('alice@example.org');
    expect(alice && (await verifyPassword(password as string, alice.passwordHash as string))).toBe(true);
    await store.close();
  });

  test('a first start on a busy port fails plainly; the demo password is shown at every start until the demo patient signs in', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const failed = await failedStart({ ASSENT_PORT: String(port), ASSENT_DATA_DIR: dataDir });
    await new Promise((resolve) => blocker.close(resolve));
    expect(failed).toEqual({ code: 1, stderr: `assent: port ${port} on 127.0.0.1 is already in use; stop the other server or set ASSENT_PORT\n` });
    const file = path.join(dataDir, 'demo-credentials.txt');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    const url = await second.listening;
    const password = /account alice@example\.org\s+password: (\S+)/.exec(second.output().stdout)?.[1];
    expect(password).toBeDefined();
    expect(second.output().stdout).toContain(`(kept in ${file} until then)`);
    const user = new BrowserlessUser(url);
    expect((await user.signIn('alice@example.org', 'not the password')).status).toBe(401);
    expect(existsSync(file)).toBe(true);
    expect((await user.signIn('alice@example.org', password!)).location?.pathname).toBe('/account');
    expect(existsSync(file)).toBe(false);
    expect(await stopServer(second)).toBe(0);

    const third = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    await third.listening;
    expect(third.output().stdout).not.toContain('password');
    expect(await stopServer(third)).toBe(0);
  });

  test('a host that is not an address of this machine fails with one plain sentence', async () => {
    const failed = await failedStart({ ASSENT_PORT: '0', ASSENT_HOST: '192.0.2.1', ASSENT_DATA_DIR: dataDir });
    expect(failed).toEqual({ code: 1, stderr: 'assent: 192.0.2.1 is not an address of this machine; set ASSENT_HOST to one of its addresses\n' });
  });

  test('a second server on a data directory in use fails with one plain sentence', async () => {
    const first = launchServer({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    await first.listening;
    const second = await failedStart({ ASSENT_PORT: '0', ASSENT_DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`assent: the data directory ${dataDir} is in use by another Assent process; stop it first (or use MongoDB to run several processes)\n`);
    expect(await stopServer(first)).toBe(0);
  });

  test.each([
    [{ ASSENT_PORT: 'http' }, 'ASSENT_PORT (port): must be integer'],
    [{ ASSENT_LOG_LEVEL: 'loud' }, 'ASSENT_LOG_LEVEL (logLevel): must be one of debug, info, warn, error, silent'],
    [{ ASSENT_UPSTREAM_PROVIDERS: '[{"id": "idp"' }, 'ASSENT_UPSTREAM_PROVIDERS (upstreamProviders): not valid JSON ('],
    [{ ASSENT_ISSUER: 'http://as.example.org' }, 'ASSENT_ISSUER (issuer): must be an https:// URL'],
  ])('the invalid setting %o stops start-up with one line naming it, exit code 2 and nothing written', async (env, message) => {
    const target = path.join(dataDir, 'never-created');
    const run = await failedStart({ ASSENT_DATA_DIR: target, ...env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`assent: invalid configuration: ${message}`);
    expect(run.stderr).toMatch(/^assent: [^\n]+\. Fix it in the environment or the ASSENT_CONFIG file and start again\.\n$/);
    expect(run.stderr).not.toMatch(/must match pattern|\^\(|\n\s+at /);
    expect(existsSync(target)).toBe(false);
  });
});

/** A start expected to fail: its exit code and everything it wrote to stderr (nothing to stdout). */
async function failedStart(env: Record<string, string>) {
  const run = launchServer({ ASSENT_LOG_LEVEL: 'info', ...env });
  await expect(run.listening).rejects.toThrow();
  const code = await run.exited;
  expect(run.output().stdout).not.toContain('Assent is listening');
  return { code, stderr: run.output().stderr };
}
