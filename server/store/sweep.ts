import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MaintenanceTask } from '../maintenance.js';
import type { Store } from './port.js';

/** Documents removed per statement: a few milliseconds of work, after which requests get their turn. */
const SLICE = 200;

/**
 * The maintenance task that reclaims expired documents (codes, tokens, tickets, interactions,
 * sessions, federation trips, failure counters, used assertion ids, retired keys, …) from every
 * collection the server has opened, at most `limitPerCollection` from each per run.
 */
export function expirySweep(store: Store, options: { limitPerCollection: number }): MaintenanceTask {
  return {
    name: 'expiry sweep',
    async run(now) {
      let reclaimed = 0;
      for (const collection of store.openedCollections()) {
        for (let left = options.limitPerCollection; left > 0; ) {
          const slice = Math.min(SLICE, left);
          const removed = await collection.sweepExpired(now, slice);
          reclaimed += removed;
          left -= removed;
          if (removed < slice) break;
          await nextTurn();
        }
      }
      return reclaimed;
    },
  };
}
