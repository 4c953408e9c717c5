import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the WAL is copied into the database file. */
const INTERVAL_MS = 1000;

/**
 * Runs in a worker thread with its own connection: copies the write-ahead log into the database
 * (a PASSIVE checkpoint never waits for, nor blocks, the server's connection) and fsyncs both.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.binding);
const db = new Database(workerData.file);
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.intervalMs);
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
  const worker = new Worker(WORKER, { eval: true, workerData: { file, binding, intervalMs: INTERVAL_MS } });
  worker.on('error', onFailure);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      await exited;
    },
  };
}
