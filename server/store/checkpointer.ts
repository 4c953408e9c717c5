import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the WAL is copied into the database file. */
const INTERVAL_MS = 1000;
/** How long the worker waits for the server's connection to finish a statement. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Runs in a worker thread with its own connection. Each tick first copies the write-ahead log
 * into the database without taking any lock the server's connection needs (PASSIVE), then
 * finishes the few frames written meanwhile and has the log start over (RESTART): under a steady
 * stream of writes a PASSIVE checkpoint is never complete, and a log that never restarts grows
 * without bound. RESTART holds the write lock only for that remainder, and waits here, not on the
 * event loop, for the server's connection to be between statements.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.binding);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  db.pragma('wal_checkpoint(PASSIVE)');
  db.pragma('wal_checkpoint(RESTART)');
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Keeps checkpoints, the only fsyncs of a WAL database at `synchronous = NORMAL`, off the event
 * loop: the server's connection has automatic checkpoints turned off and this worker does them.
 * Should the worker fail, `onFailure` is told, so that the connection checkpoints again itself.
 */
export function startCheckpointer(file: string, onFailure: (err: Error) => void): { stop(): Promise<void> } {
  const binding = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, binding, intervalMs: INTERVAL_MS, busyTimeoutMs: BUSY_TIMEOUT_MS } });
  worker.on('error', onFailure);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      await exited;
    },
  };
}
