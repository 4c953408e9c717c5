import { statSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { startCheckpointer } from '../../server/store/checkpointer.js';
import { DATABASE_FILE, openEmbeddedStore } from '../../server/store/embedded.js';

/** How many times the log must be seen starting over. */
const RESTARTS = 3;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-checkpoint-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/**
 * How many rows the database file holds without its write-ahead log, i.e. what checkpoints have
 * copied in. The copy is taken while the worker may be checkpointing, so it can be torn (a
 * malformed image): that counts as nothing seen yet, and the caller looks again.
 */
async function rowsInMainFile(table: string) {
  const copy = path.join(dataDir, 'main-only.sqlite');
  await copyFile(path.join(dataDir, 'db', DATABASE_FILE), copy);
  const db = new Database(copy);
  try {
    const found = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(table);
    return found ? (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n : 0;
  } catch (err) {
    // By its code, not `instanceof SqliteError`: the native addon keeps the error class of the first
    // module registry that loaded it, and jest gives each test file a registry of its own.
    const code = String((err as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 0;
    throw err;
  } finally {
    db.close();
    await rm(copy);
  }
}

test('writes reach the database file through checkpoints made by the worker while the store stays open', async () => {
  const store = await openEmbeddedStore(dataDir);
  const items = await store.collection('checkpointed');
  for (let n = 0; n < 100; n++) await items.insert({ _id: `doc${n}` });
  while ((await rowsInMainFile('checkpointed')) < 100) await sleep(100);
  await store.close();
}, 30_000);

test('a worker that cannot checkpoint reports it, so the connection can take checkpoints back', async () => {
  const failure = await new Promise<Error>((resolve) => startCheckpointer(path.join(dataDir, 'missing', 'x.sqlite'), resolve));
  expect(failure.message).toMatch(/directory does not exist|unable to open/);
});

test('under writes that never pause, the log still starts over once it passes the restart size', async () => {
  const file = path.join(dataDir, 'busy.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = 0'); // a log that starts over is also cut back, so its size shows it
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, pad TEXT)');
  const insert = db.prepare('INSERT INTO t (pad) VALUES (?)');
  const failures: Error[] = [];
  const checkpointer = startCheckpointer(file, (err) => failures.push(err), { intervalMs: 50, restartFrames: 200 });
  const walBytes = () => statSync(`${file}-wal`).size;
  let restarts = 0;
  let previous = 0;
  const started = Date.now();
  // A page per insert, bursts of a hundred, the event loop let through only between bursts.
  while (restarts < RESTARTS && Date.now() - started < 20_000) {
    for (let i = 0; i < 100; i++) insert.run('x'.repeat(4000));
    const size = walBytes();
    if (size < previous) restarts++;
    previous = size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await checkpointer.stop();
  db.close();
  expect(failures).toEqual([]);
  expect(restarts).toBe(RESTARTS);
}, 30_000);
