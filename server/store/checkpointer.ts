import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointSchedule {
  /** How often the WAL is copied into the database file. */
  intervalMs: number;
  /** A log of this many pages is made to start over even while writes keep coming. */
  restartFrames: number;
}

/** Every second; 16,384 pages of 4 KiB is 64 MiB of log. */
const SCHEDULE: CheckpointSchedule = { intervalMs: 1000, restartFrames: 16_384 };
/** How long the worker waits for the server's connection to finish a statement. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Runs in a worker thread with its own connection. Each tick copies the write-ahead log into the
 * database without taking any lock the server's connection needs (PASSIVE). Once all of it is
 * copied, the server's next write starts the log over; but under a steady stream of writes a
 * PASSIVE checkpoint is never complete, and a log that never starts over grows without bound. So
 * when the log has grown past `restartFrames`, the tick also finishes the frames written
 * meanwhile and has the log start over (RESTART), which holds the write lock for that remainder
 * and waits here, not on the event loop, for the server's connection to be between statements.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.binding);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
  if (log >= workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
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
export function startCheckpointer(file: string, onFailure: (err: Error) => void, schedule: CheckpointSchedule = SCHEDULE): { stop(): Promise<void> } {
  const binding = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, binding, busyTimeoutMs: BUSY_TIMEOUT_MS, ...schedule } });
  worker.on('error', onFailure);
  // A process that forgets to close its store still ends; a checkpoint cut short is harmless.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held again, or a process with nothing else to do would end before the worker is done.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
