import type { Clients } from '../../store/repositories/clients.js';

/** How long the set of registered redirect origins is reused before the store is read again. */
const CACHE_MS = 30_000;
/** An origin not in the set is looked for again in a set at most this old: a client registered a moment ago works at once. */
const MISS_CACHE_MS = 1_000;

/**
 * Whether some registered client redirects to an origin: what decides whether a browser app on
 * that origin may read the answers of the token, revocation and userinfo endpoints (CORS).
 * Read from the store at most once per cache period, in one query shared by concurrent callers;
 * an unknown origin reads it again at most once a second.
 */
export class RedirectOrigins {
  private cached: { at: number; origins: Set<string> } | undefined;
  private loading: Promise<Set<string>> | undefined;

  constructor(private readonly clients: Pick<Clients, 'redirectOrigins'>) {}

  async has(origin: string): Promise<boolean> {
    return (await this.current(CACHE_MS)).has(origin) || (await this.current(MISS_CACHE_MS)).has(origin);
  }

  private async current(maxAgeMs: number): Promise<Set<string>> {
    if (this.cached && Date.now() - this.cached.at < maxAgeMs) return this.cached.origins;
    this.loading ??= this.clients.redirectOrigins().finally(() => (this.loading = undefined));
    const origins = await this.loading;
    this.cached = { at: Date.now(), origins };
    return origins;
  }
}
