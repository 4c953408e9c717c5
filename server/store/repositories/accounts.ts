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
  /** Set by the operator (npm run accounts -- disable): no sign-in, no new tokens. */
  disabled?: boolean;
  /** The account's FHIR identity: `Patient/<id>` or `Practitioner/<id>`. */
  fhirUser?: string;
  /** A practitioner's patient compartments (bare patient ids); a patient reaches only its own. */
  patients?: string[];
  /** Operator-granted roles, e.g. `admin`. */
  roles?: string[];
}

export class Accounts {
  private constructor(private readonly accounts: Collection<AccountDocument>) {}

  static async open(store: Store) {
    return new Accounts(await store.collection<AccountDocument>('accounts', { unique: ['email'], indexed: ['fhirUser'] }));
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

  /** The account unless it is gone or disabled: what a sign-in or a token may be for. */
  async usable(sub: string) {
    const account = await this.byId(sub);
    return account && !account.disabled ? account : null;
  }

  /** Whether some account is this FHIR user (e.g. `Patient/alice`): how a patient id is known here. */
  async hasFhirUser(fhirUser: string): Promise<boolean> {
    return (await this.accounts.count({ fhirUser })) > 0;
  }

  /** The accounts that are these FHIR users (e.g. `Patient/alice`). */
  byFhirUsers(fhirUsers: string[]): Promise<AccountDocument[]> {
    return this.accounts.find({ fhirUser: { $in: fhirUsers } });
  }

  /** Every account, oldest first. */
  all() {
    return this.accounts.find({}, { sort: { createdAt: 1 } });
  }

  /** Sets fields of one account; false when there is none with this id. */
  async change(sub: string, fields: Partial<Pick<AccountDocument, 'passwordHash' | 'disabled' | 'name'>>): Promise<boolean> {
    return (await this.accounts.update({ _id: sub }, fields)) === 1;
  }
}

export function normalizeEmail(email: string) {
  return email.trim().toLowerCase();
}
