import { generateSecret, hashSecret, secretMatches } from '../../crypto/secrets.js';
import type { Collection, StoredDocument } from '../port.js';

/** A cookie the HTTP layer is to set on the response (`value: null` deletes it); always httpOnly, SameSite=Lax. */
export interface CookieToSet {
  name: string;
  value: string | null;
  path: string;
  /** Lifetime in milliseconds; absent for a deletion. */
  maxAgeMs?: number;
}

/** The cookies a request came with. */
export interface RequestCookies {
  get(name: string): string | undefined;
}

/** A record bound to the browser that started it: the hash of a secret only that browser's cookie holds. */
export interface BrowserBoundDocument extends StoredDocument {
  browserHash: string;
  /** Set, exactly once, when the record is used up. */
  finishedAt?: Date;
  expiresAt: Date;
}

export interface BrowserBinding {
  /** Cookie name; each record's cookie is `<cookie>_<first 16 characters of its id>`. */
  cookie: string;
  /** The path the cookie is scoped to: the pages of the flow. */
  path: string;
  lifetimeSeconds: number;
}

/**
 * Single-use records bound to a browser: an authorization request's interaction, a UMA claims
 * interaction, a trip to an upstream provider. Each one is stored with the hash of a fresh secret
 * that goes to the browser in a cookie, so a record id that leaks (in a URL, a log) is worth
 * nothing without the cookie; finishing is one atomic find-and-modify, so a concurrent second
 * submission finds nothing. Cookies are returned as data for the HTTP layer to set.
 */
export class BrowserBoundRecords<T extends BrowserBoundDocument> {
  constructor(
    private readonly records: Collection<T>,
    private readonly binding: BrowserBinding,
  ) {}

  /** Stores a new record (with a random id unless given) and the cookie binding this browser to it. */
  async create(fields: Omit<T, '_id' | 'browserHash' | 'expiresAt' | 'finishedAt'>, id = generateSecret()): Promise<{ record: T; cookie: CookieToSet }> {
    const secret = generateSecret();
    const maxAgeMs = this.binding.lifetimeSeconds * 1000;
    const record = { ...fields, _id: id, browserHash: hashSecret(secret), expiresAt: new Date(Date.now() + maxAgeMs) } as T;
    await this.records.insert(record);
    return { record, cookie: { name: this.cookieName(id), value: secret, path: this.binding.path, maxAgeMs } };
  }

  /** The unfinished, unexpired record, when this browser holds its cookie. */
  async find(id: string, cookies: RequestCookies): Promise<T | null> {
    const record = await this.byId(id);
    return record && this.heldBy(record, cookies) ? record : null;
  }

  /** The unfinished record by id, without the browser check: only for a caller that made that check earlier. */
  byId(id: string): Promise<T | null> {
    return this.records.findOne({ _id: id, finishedAt: { $exists: false } });
  }

  /** Adds fields to an unfinished record. */
  async update(id: string, fields: Partial<Omit<T, '_id' | 'browserHash' | 'finishedAt'>>): Promise<void> {
    await this.records.update({ _id: id, finishedAt: { $exists: false } }, fields as Partial<T>);
  }

  /**
   * Finishes the record exactly once and returns it, when this browser holds its cookie (without
   * `cookies`: for a caller that checked the browser earlier). The record is used up whoever
   * presents it, so an id that leaked to another browser is worth nothing to either. The cookie
   * returned deletes the binding.
   */
  async finish(id: string, cookies?: RequestCookies): Promise<{ record: T | null; cookie: CookieToSet }> {
    const record = await this.records.consume({ _id: id, finishedAt: { $exists: false } }, { finishedAt: new Date() } as Partial<T>);
    const held = record && (!cookies || this.heldBy(record, cookies));
    return { record: held ? record : null, cookie: this.clearing(id) };
  }

  /** The cookie that deletes the binding of record `id`. */
  clearing(id: string): CookieToSet {
    return { name: this.cookieName(id), value: null, path: this.binding.path };
  }

  private heldBy(record: T, cookies: RequestCookies): boolean {
    const secret = cookies.get(this.cookieName(record._id));
    return secret !== undefined && secretMatches(secret, record.browserHash);
  }

  private cookieName(id: string): string {
    return `${this.binding.cookie}_${id.slice(0, 16)}`;
  }
}
