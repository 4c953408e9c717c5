import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DATABASE_FILE, openEmbeddedStore } from '../../server/store/embedded.js';
import type { StoredDocument } from '../../server/store/port.js';

interface Written extends StoredDocument {
  n: number;
  at?: Date;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const writer = path.join(root, 'test/store/fixtures/embedded-writer.ts');
const ACKS_BEFORE_KILL = 300;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-durability-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

async function reopened() {
  const store = await openEmbeddedStore(dataDir);
  return { store, written: await store.collection<Written>('written', { unique: ['n'] }) };
}

/** Runs the writer until it has acknowledged `acks` inserts, SIGKILLs it, and returns every ack it printed. */
async function killWriterAfter(acks: number, concurrency = 1): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir, String(concurrency)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const acked: number[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    acked.push(Number(line.replace(/^ack /, '')));
    if (acked.length === acks) child.kill('SIGKILL');
  }
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`writer ended by ${signal ?? 'exit'} after ${acked.length} acks:\n${stderr}`);
  return acked;
}

test('close and reopen keeps the data', async () => {
  const first = await reopened();
  await first.written.insert({ _id: 'a', n: 1, at: new Date(5) });
  await first.written.update({ _id: 'a' }, { n: 2 });
  await first.written.insert({ _id: 'b', n: 3 });
  await first.written.delete({ _id: 'b' });
  await first.store.close();
  const second = await reopened();
  expect(await second.written.find({})).toEqual([{ _id: 'a', n: 2, at: new Date(5) }]);
  await expect(second.written.insert({ _id: 'c', n: 2 })).rejects.toMatchObject({ name: 'DuplicateKeyError' });
  await second.store.close();
});

test(
  'a writer killed with SIGKILL mid-way loses no acknowledged insert and leaves a loadable store',
  async () => {
    const acked = await killWriterAfter(ACKS_BEFORE_KILL);
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    expect(acked).toEqual(acked.map((_, i) => i));
    const { store, written } = await reopened();
    const docs = await written.find({});
    const present = new Set(docs.map((d) => d.n));
    expect(acked.filter((n) => !present.has(n))).toEqual([]);
    // Read back from the write-ahead log (the writer never closed, so never checkpointed), dates are dates.
    expect(docs.filter((d) => !(d.at instanceof Date))).toEqual([]);
    await store.close();
  },
  60_000,
);

test(
  'with 16 writers at once, a SIGKILL still loses no acknowledged insert',
  async () => {
    const acked = await killWriterAfter(ACKS_BEFORE_KILL, 16);
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    const { store, written } = await reopened();
    const present = new Set((await written.find({})).map((d) => d.n));
    expect(acked.filter((n) => !present.has(n))).toEqual([]);
    await store.close();
  },
  60_000,
);

test(
  'a write-ahead log cut short after a SIGKILL (a torn last frame) still loads, with every acknowledged insert',
  async () => {
    const acked = await killWriterAfter(ACKS_BEFORE_KILL);
    const wal = path.join(dataDir, 'db', `${DATABASE_FILE}-wal`);
    await writeFile(wal, Buffer.alloc(1000, 0x5a), { flag: 'a' });
    const { store, written } = await reopened();
    const present = new Set((await written.find({})).map((d) => d.n));
    expect(acked.filter((n) => !present.has(n))).toEqual([]);
    await written.insert({ _id: 'after', n: -1 });
    expect(await written.count({ n: -1 })).toBe(1);
    await store.close();
  },
  60_000,
);
