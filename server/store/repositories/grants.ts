import type { Collection, Store, StoredDocument } from '../port.js';

/** What a user has allowed one client: one document per (account, client), scopes accumulate. */
export interface GrantDocument extends StoredDocument {
  accountId: string;
  clientId: string;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

export class Grants {
  private constructor(private readonly grants: Collection<GrantDocument>) {}

  static async open(store: Store) {
    return new Grants(await store.collection<GrantDocument>('grants', { indexed: ['accountId', 'clientId'] }));
  }

  static idFor(accountId: string, clientId: string) {
    return `${accountId}|${clientId}`;
  }

  /** Adds scopes to the account's grant for the client, creating it if needed; returns the grant id. */
  async remember(accountId: string, clientId: string, scopes: string[]): Promise<string> {
    const _id = Grants.idFor(accountId, clientId);
    const existing = await this.grants.findOne({ _id });
    const now = new Date();
    const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])].sort();
    await this.grants.upsert({ _id, accountId, clientId, scopes: merged, createdAt: existing?.createdAt ?? now, updatedAt: now });
    return _id;
  }

  forAccount(accountId: string) {
    return this.grants.find({ accountId }, { sort: { updatedAt: -1 } });
  }

  /** Every grant of every account to every client (the token administration page). */
  all() {
    return this.grants.find({}, { sort: { clientId: 1, updatedAt: -1 } });
  }

  byId(grantId: string) {
    return this.grants.findOne({ _id: grantId });
  }

  async remove(grantId: string): Promise<void> {
    await this.grants.delete({ _id: grantId });
  }

  async removeOfAccount(accountId: string): Promise<void> {
    await this.grants.delete({ accountId });
  }

  async removeOfClient(clientId: string): Promise<void> {
    await this.grants.delete({ clientId });
  }
}
