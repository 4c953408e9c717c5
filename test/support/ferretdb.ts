import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/** A MongoDB-compatible server for tests: `uri` to connect, `stop` to shut it down and clean up. */
export interface TestMongo {
  uri: string;
  stop(): Promise<void>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const binary = path.join(root, '.tools/bin/ferretdb');
const STARTUP_TIMEOUT_MS = 30_000;

/** Uses ASSENT_MONGODB_URI when set; otherwise starts the pinned FerretDB on SQLite in a temp dir. */
export async function startTestMongo(): Promise<TestMongo> {
  const external = process.env.ASSENT_MONGODB_URI;
  if (external) return { uri: external, stop: async () => {} };
  if (!existsSync(binary)) {
    throw new Error(`FerretDB is missing at ${binary}: run \`npm run tools:install\` first`);
  }
  return startFerretDb();
}

async function startFerretDb(): Promise<TestMongo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'assent-ferretdb-'));
  const [port, debugPort] = [await freePort(), await freePort()];
  const child = spawn(binary, ferretDbArgs(dir, port, debugPort), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async () => {
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  const uri = `mongodb://127.0.0.1:${port}/`;
  try {
    await waitForPing(uri, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { uri, stop };
}

function ferretDbArgs(dir: string, port: number, debugPort: number) {
  return [
    '--handler=sqlite',
    `--sqlite-url=file:${dir}/`,
    `--state-dir=${dir}`,
    '--telemetry=disable',
    `--listen-addr=127.0.0.1:${port}`,
    `--debug-addr=127.0.0.1:${debugPort}`,
    '--log-level=warn',
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPing(uri: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`FerretDB exited during startup (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (await pings(uri)) return;
    if (Date.now() > deadline) throw new Error(`FerretDB did not answer ping within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function pings(uri: string) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

async function terminate(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Where jest's globalSetup leaves the server for globalTeardown (both run in jest's parent process). */
export type JestGlobals = typeof globalThis & { assentTestMongo?: TestMongo };
