import { spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../server/config/config.js';
import { startServer, type RunningServer } from '../../server/runtime.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { testMongoUri } from '../support/stores.js';

/** `npm run accounts` as an operator runs it: a real process on the configured store, password on stdin. */
function accounts(env: Record<string, string>, args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/accounts.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

interface Backend {
  name: 'embedded' | 'mongodb';
  /** The CLI's environment for a fresh store. */
  environment(): Promise<Record<string, string>>;
  /** Whether the CLI can work while a server holds the store. */
  sharesStoreWithServer: boolean;
  dispose(env: Record<string, string>): Promise<void>;
}

const backends: Backend[] = [
  {
    name: 'embedded',
    sharesStoreWithServer: false,
    environment: async () => ({ ASSENT_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'assent-accounts-')) }),
    dispose: (env) => rm(env.ASSENT_DATA_DIR!, { recursive: true, force: true }),
  },
  {
    name: 'mongodb',
    sharesStoreWithServer: true,
    environment: async () => ({
      ASSENT_MONGODB_URI: testMongoUri(),
      ASSENT_MONGODB_DB: `assent_accounts_${randomBytes(6).toString('hex')}`,
      ASSENT_KEY_SECRET: 'test-key-secret-test-key-secret-0123456789',
      ASSENT_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'assent-accounts-')),
    }),
    dispose: async (env) => {
      const client = new MongoClient(env.ASSENT_MONGODB_URI!);
      try {
        await client.db(env.ASSENT_MONGODB_DB!).dropDatabase();
      } finally {
        await client.close();
      }
      await rm(env.ASSENT_DATA_DIR!, { recursive: true, force: true });
    },
  },
];

const BOB = 'bob@example.org';
const PASSWORD = 'bobs first passphrase';
const NEW_PASSWORD = 'bobs second passphrase';

describe.each(backends)('npm run accounts on the $name store', (backend) => {
  let env: Record<string, string>;
  /** One port for every run of the server, so a browser's cookies outlive a restart. */
  let port: string;
  let server: RunningServer | undefined;
  const start = async () => (server = await startServer(loadConfig({ ...env, ASSENT_PORT: port, ASSENT_LOG_LEVEL: 'silent' })));
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  /** Runs a command that changes the store: with the server running when the store allows it, else between two runs. */
  const administer = async (args: string[], stdin?: string) => {
    if (!backend.sharesStoreWithServer) await stop();
    const result = await accounts(env, args, stdin);
    if (!server) await start();
    return result;
  };
  const signIn = (email: string, password: string) => new BrowserlessUser(server!.url).signIn(email, password);

  beforeAll(async () => {
    env = await backend.environment();
    port = await freePort();
  });
  afterAll(async () => {
    await stop();
    await backend.dispose(env);
  });

  test('create makes an account that signs in on the login page; a second create of the email is refused', async () => {
    const created = await accounts(env, ['create', 'Bob@Example.org', '--name', 'Bob Builder'], `${PASSWORD}\n`);
    expect(created).toEqual({ code: 0, stdout: `created ${BOB} (Bob Builder)\n`, stderr: '' });
    const again = await accounts(env, ['create', BOB], `${PASSWORD}\n`);
    expect(again).toMatchObject({ code: 1, stderr: `accounts: an account with the email ${BOB} already exists\n` });
    await start();
    expect((await signIn(BOB, PASSWORD)).location?.pathname).toBe('/account');
    expect((await signIn(BOB, 'bobs wrong passphrase')).status).toBe(401);
  });

  test('a password on the command line, a weak one or none at all is refused and nothing is created', async () => {
    if (!backend.sharesStoreWithServer) await stop();
    const refusals = [
      await accounts(env, ['create', 'carol@example.org', 'carols passphrase'], `${PASSWORD}\n`),
      await accounts(env, ['create', 'carol@example.org', '--password=carols passphrase'], `${PASSWORD}\n`),
      await accounts(env, ['create', 'carol@example.org', '-p', 'carols passphrase']),
      await accounts(env, ['reset-password', BOB, NEW_PASSWORD]),
    ];
    for (const refused of refusals) {
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('accounts: passwords are never taken from the command line');
    }
    expect(await accounts(env, ['create', 'carol@example.org'], 'short\n')).toMatchObject({ code: 1, stderr: 'accounts: the password must have at least 12 characters\n' });
    expect(await accounts(env, ['create', 'carol@example.org'], '')).toMatchObject({ code: 1, stderr: expect.stringContaining('accounts: no password on stdin') });
    expect(await accounts(env, ['create', 'not-an-email'], `${PASSWORD}\n`)).toMatchObject({ code: 1, stderr: 'accounts: not-an-email is not an email address\n' });
    const listed = await accounts(env, ['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain('carol');
    expect(listed.stdout).toMatch(new RegExp(`^EMAIL +NAME +STATUS +CREATED +FHIR USER +PATIENTS +ROLES\n${BOB.replace('.', '\\.')} +Bob Builder +active +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\n`));
    if (!server) await start();
  });

  test('an unknown command or email is a plain error with a non-zero exit', async () => {
    expect(await accounts(env, ['remove', BOB])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^accounts: unknown command remove\nusage: npm run accounts/) });
    expect(await administer(['disable', 'nobody@example.org'])).toEqual({ code: 1, stdout: '', stderr: 'accounts: there is no account with the email nobody@example.org\n' });
  });

  if (!backend.sharesStoreWithServer) {
    test('while a server holds the embedded store, the command says to stop it first', async () => {
      if (!server) await start();
      const refused = await accounts(env, ['disable', BOB]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^accounts: the data directory \S+ is in use by another Assent process; stop it first \(or use MongoDB to run several processes\)\n$/);
    });
  }

  test('disable refuses sign-ins and ends the sessions; enable allows sign-ins again', async () => {
    const bob = new BrowserlessUser(server!.url);
    expect((await bob.signIn(BOB, PASSWORD)).location?.pathname).toBe('/account');
    expect((await bob.get('/account')).status).toBe(200);
    expect(await administer(['disable', BOB])).toMatchObject({ code: 0, stdout: `disabled ${BOB}; its sessions are ended and its tokens revoked\n` });
    expect((await bob.get('/account')).location?.pathname).toBe('/login');
    const refused = await signIn(BOB, PASSWORD);
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('This account is disabled.');
    if (!backend.sharesStoreWithServer) await stop();
    expect((await accounts(env, ['list'])).stdout).toMatch(/bob@example\.org +Bob Builder +disabled/);
    expect(await administer(['enable', BOB])).toMatchObject({ code: 0, stdout: `enabled ${BOB}\n` });
    expect((await signIn(BOB, PASSWORD)).location?.pathname).toBe('/account');
  });

  test('set-fhir-user, add-patient, remove-patient, grant-role and revoke-role manage the FHIR identity and roles', async () => {
    if (!backend.sharesStoreWithServer) await stop();
    expect(await accounts(env, ['set-fhir-user', BOB, 'Practitioner/bob-1'])).toEqual({ code: 0, stdout: `${BOB}: Practitioner/bob-1\n`, stderr: '' });
    expect(await accounts(env, ['add-patient', BOB, 'alice'])).toMatchObject({ code: 0, stdout: `${BOB}: Practitioner/bob-1; patients alice\n` });
    expect(await accounts(env, ['grant-role', BOB, 'admin'])).toMatchObject({ code: 0, stdout: `${BOB}: Practitioner/bob-1; patients alice; roles admin\n` });
    expect(await accounts(env, ['set-fhir-user', BOB, 'Doctor/x'])).toMatchObject({ code: 1, stderr: 'accounts: Doctor/x is not Patient/<id> or Practitioner/<id> (an id is 1 to 64 letters, digits, - or .)\n' });
    expect(await accounts(env, ['add-patient', BOB, 'al ice'])).toMatchObject({ code: 1, stderr: 'accounts: al ice is not a FHIR id (1 to 64 letters, digits, - or .)\n' });
    expect((await accounts(env, ['list'])).stdout).toMatch(/bob@example\.org +Bob Builder +active +\S+ \S+ +Practitioner\/bob-1 +alice +admin\n/);
    expect(await accounts(env, ['remove-patient', BOB, 'alice'])).toMatchObject({ code: 0, stdout: `${BOB}: Practitioner/bob-1; roles admin\n` });
    expect(await accounts(env, ['revoke-role', BOB, 'admin'])).toMatchObject({ code: 0, stdout: `${BOB}: Practitioner/bob-1\n` });
    expect(await administer(['set-fhir-user', BOB, 'none'])).toMatchObject({ code: 0, stdout: `${BOB}: no FHIR identity\n` });
  });

  test('reset-password replaces the password and ends every session', async () => {
    const bob = new BrowserlessUser(server!.url);
    expect((await bob.signIn(BOB, PASSWORD)).location?.pathname).toBe('/account');
    expect(await administer(['reset-password', BOB], `${NEW_PASSWORD}\n`)).toMatchObject({ code: 0, stdout: `new password set for ${BOB}; its sessions are ended\n` });
    expect((await bob.get('/account')).location?.pathname).toBe('/login');
    expect((await signIn(BOB, PASSWORD)).status).toBe(401);
    expect((await signIn(BOB, NEW_PASSWORD)).location?.pathname).toBe('/account');
  });
});

async function freePort(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return String(port);
}
