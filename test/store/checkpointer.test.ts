import { statSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { startCheckpointer } from '../../server/store/checkpointer.js';
import { DATABASE_FILE, openEmbeddedStore } from '../../server/store/embedded.js';

/** Far above the test's restart size (200 pages), far below what it writes. */
const LOG_BOUND_PAGES = 2000;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-checkpoint-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** How many rows the database file holds without its write-ahead log, i.e. what checkpoints have copied in. */
async function rowsInMainFile(table: string) {
  const copy = path.join(dataDir, 'main-only.sqlite');
  await copyFile(path.join(dataDir, 'db', DATABASE_FILE), copy);
  const db = new Database(copy);
  try {
    const found = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(table);
    return found ? (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n : 0;
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
  const walPages = () => statSync(`${file}-wal`).size / 4096;
  const started = Date.now();
  // A page per insert, a few hundred per tick, the event loop let through only between bursts.
  while (Date.now() - started < 3000) {
    for (let i = 0; i < 100; i++) insert.run('x'.repeat(4000));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const finalPages = walPages();
  await checkpointer.stop();
  const inserted = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  db.close();
  expect(failures).toEqual([]);
  // Without a restart the log would hold a page for every row inserted.
  expect(inserted).toBeGreaterThan(10 * LOG_BOUND_PAGES);
  expect(finalPages).toBeLessThan(LOG_BOUND_PAGES);
}, 30_000);
