import { randomUUID } from 'node:crypto';
import type { Collection, Store, StoredDocument } from '../port.js';

export interface AccountDocument extends StoredDocument {
  /** The stable subject identifier (`sub`). */
  _id: string;
  email: string;
  emailVerified: boolean;
  name: string;
  passwordHash?: string;
  createdAt: Date;
}

export class Accounts {
  private constructor(private readonly accounts: Collection<AccountDocument>) {}

  static async open(store: Store) {
    return new Accounts(await store.collection<AccountDocument>('accounts', { unique: ['email'] }));
  }

  /** Throws DuplicateKeyError when the email is taken. */
  async create(fields: Omit<AccountDocument, '_id' | 'createdAt'>): Promise<AccountDocument> {
    const account: AccountDocument = { _id: randomUUID(), createdAt: new Date(), ...fields, email: normalizeEmail(fields.email) };
    await this.accounts.insert(account);
    return account;
  }

  byId(sub: string) {
    return this.accounts.findOne({ _id: sub });
  }

  byEmail(email: string) {
    return this.accounts.findOne({ email: normalizeEmail(email) });
  }
}

export function normalizeEmail(email: string) {
  return email.trim().toLowerCase();
}
