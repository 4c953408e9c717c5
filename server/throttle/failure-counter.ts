import { randomUUID } from 'node:crypto';
import type { Collection, Store, StoredDocument } from '../store/port.js';

interface FailureDocument extends StoredDocument {
  key: string;
  at: Date;
  expiresAt: Date;
}

export interface ThrottleOptions {
  windowSeconds: number;
  freeAttempts: number;
  firstDelaySeconds: number;
}

export interface Throttle {
  /** Failures still counted for this key. */
  failures: number;
  /** Seconds until another attempt is accepted; 0 when it is accepted now. */
  retryAfter: number;
}

/**
 * Counts recent failures per key (an account, an IP, a client) in the store, so every process
 * behind a load balancer sees the same counts. One document per failure; no atomic counters needed.
 * Past `freeAttempts` failures in the window, the next attempt must wait `firstDelaySeconds`, and
 * each further failure doubles the wait, up to the window.
 */
export class FailureCounter {
  private constructor(
    private readonly failures: Collection<FailureDocument>,
    private readonly options: ThrottleOptions,
  ) {}

  static async open(store: Store, name: string, options: ThrottleOptions) {
    return new FailureCounter(await store.collection<FailureDocument>(name, { indexed: ['key'] }), options);
  }

  /** `tightened` replaces the free attempts and first delay for this check (e.g. while an attack is under way). */
  async check(key: string, now = Date.now(), tightened?: Pick<ThrottleOptions, 'freeAttempts' | 'firstDelaySeconds'>): Promise<Throttle> {
    const { freeAttempts, firstDelaySeconds } = tightened ?? this.options;
    const failures = await this.failures.count({ key });
    if (failures < freeAttempts) return { failures, retryAfter: 0 };
    const [latest] = await this.failures.find({ key }, { sort: { at: -1 }, limit: 1 });
    const wait = Math.min(firstDelaySeconds * 2 ** (failures - freeAttempts), this.options.windowSeconds);
    const elapsed = latest ? (now - latest.at.getTime()) / 1000 : wait;
    return { failures, retryAfter: Math.max(0, Math.ceil(wait - elapsed)) };
  }

  /** Failures still counted for this key. */
  count(key: string): Promise<number> {
    return this.failures.count({ key });
  }

  async record(key: string, now = Date.now()) {
    await this.failures.insert({ _id: randomUUID(), key, at: new Date(now), expiresAt: new Date(now + this.options.windowSeconds * 1000) });
  }

  async clear(key: string) {
    await this.failures.delete({ key });
  }
}
