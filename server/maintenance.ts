import { errorFields, type Logger } from './logger.js';

/** A periodic clean-up job; `run` returns how many items it reclaimed. */
export interface MaintenanceTask {
  name: string;
  run(now: Date): Promise<number>;
}

/**
 * Runs every task, one after the other, every `intervalMs`, for as long as the server runs. One
 * run at a time: a run still going when the next is due makes that one skip. A task's failure is
 * logged and the next task runs; nothing is thrown. `stop` cancels the schedule, lets a run in
 * progress finish its current task and waits for it.
 */
export function startMaintenance(tasks: MaintenanceTask[], options: { intervalMs: number; logger: Logger }): { stop(): Promise<void> } {
  const { logger } = options;
  let running: Promise<void> | undefined;
  let stopped = false;

  const runAll = async () => {
    for (const task of tasks) {
      if (stopped) return;
      const started = performance.now();
      try {
        const reclaimed = await task.run(new Date());
        const fields = { task: task.name, reclaimed, ms: Math.round(performance.now() - started) };
        if (reclaimed > 0) logger.info('maintenance', fields);
        else logger.debug('maintenance', fields);
      } catch (err) {
        logger.error('maintenance task failed', { task: task.name, ...errorFields(err) });
      }
    }
  };

  const timer = setInterval(() => {
    running ??= runAll().finally(() => (running = undefined));
  }, options.intervalMs);
  // The server's sockets keep the process alive; the schedule alone should not.
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
