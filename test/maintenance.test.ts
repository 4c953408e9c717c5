import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../server/logger.js';
import { startMaintenance, type MaintenanceTask } from '../server/maintenance.js';

const INTERVAL_MS = 10;

interface Entry {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void entries.push({ level, message, fields });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(condition: () => boolean) {
  while (!condition()) await sleep(INTERVAL_MS);
}

/** A task whose runs each wait until released. */
function gatedTask(name: string) {
  let release: () => void = () => {};
  const task = {
    runs: 0,
    release: () => release(),
    name,
    run: () => {
      task.runs++;
      return new Promise<number>((resolve) => (release = () => resolve(1)));
    },
  };
  return task;
}

test('runs every task on each interval; a failing task is logged and the next one still runs', async () => {
  const logger = recordingLogger();
  const seen: Date[] = [];
  const failing: MaintenanceTask = { name: 'failing', run: () => Promise.reject(new Error('disk on fire')) };
  const counting: MaintenanceTask = { name: 'counting', run: async (now) => (seen.push(now), seen.length % 2) };
  const maintenance = startMaintenance([failing, counting], { intervalMs: INTERVAL_MS, logger });
  await until(() => seen.length >= 3);
  await maintenance.stop();
  expect(seen.every((now) => now instanceof Date)).toBe(true);
  const failures = logger.entries.filter((e) => e.message === 'maintenance task failed');
  expect(failures.length).toBeGreaterThanOrEqual(3);
  expect(failures[0]).toMatchObject({ level: 'error', fields: { task: 'failing', error: 'disk on fire' } });
  const reports = logger.entries.filter((e) => e.message === 'maintenance');
  expect(reports.filter((e) => e.level === 'info')[0]).toMatchObject({ fields: { task: 'counting', reclaimed: 1 } });
  expect(reports.filter((e) => e.level === 'debug')[0]).toMatchObject({ fields: { task: 'counting', reclaimed: 0 } });
});

test('one run at a time: while a run is in progress, due runs are skipped', async () => {
  const slow = gatedTask('slow');
  const maintenance = startMaintenance([slow], { intervalMs: INTERVAL_MS, logger: recordingLogger() });
  await until(() => slow.runs === 1);
  await sleep(INTERVAL_MS * 10);
  expect(slow.runs).toBe(1);
  slow.release();
  await until(() => slow.runs === 2);
  slow.release();
  await maintenance.stop();
});

test('stop waits for the run in progress, skips the tasks after it, and nothing runs afterwards', async () => {
  const slow = gatedTask('slow');
  const after: MaintenanceTask & { runs: number } = { name: 'after', runs: 0, run: async () => (after.runs++, 0) };
  const maintenance = startMaintenance([slow, after], { intervalMs: INTERVAL_MS, logger: recordingLogger() });
  await until(() => slow.runs === 1);
  let stopped = false;
  const stopping = maintenance.stop().then(() => (stopped = true));
  await sleep(INTERVAL_MS * 5);
  expect(stopped).toBe(false);
  slow.release();
  await stopping;
  await sleep(INTERVAL_MS * 5);
  expect({ slow: slow.runs, after: after.runs }).toEqual({ slow: 1, after: 0 });
});
