import type { Collection, Store, StoredDocument } from '../port.js';

/** An upstream identity (issuer + subject at an identity provider) linked to a local account. */
export interface IdentityDocument extends StoredDocument {
  /** `${issuer}|${subject}` */
  _id: string;
  accountId: string;
  providerId: string;
  issuer: string;
  subject: string;
  email?: string;
  linkedAt: Date;
}

export class Identities {
  private constructor(private readonly identities: Collection<IdentityDocument>) {}

  static async open(store: Store) {
    return new Identities(await store.collection<IdentityDocument>('identities', { indexed: ['accountId'] }));
  }

  static idFor(issuer: string, subject: string) {
    return `${issuer}|${subject}`;
  }

  /** Throws DuplicateKeyError when the identity is already linked (to this or another account). */
  link(identity: Omit<IdentityDocument, '_id' | 'linkedAt'>) {
    return this.identities.insert({ ...identity, _id: Identities.idFor(identity.issuer, identity.subject), linkedAt: new Date() });
  }

  find(issuer: string, subject: string) {
    return this.identities.findOne({ _id: Identities.idFor(issuer, subject) });
  }

  ofAccount(accountId: string) {
    return this.identities.find({ accountId }, { sort: { linkedAt: 1 } });
  }

  unlinkAll(accountId: string) {
    return this.identities.delete({ accountId });
  }

  async unlink(accountId: string, id: string) {
    return (await this.identities.delete({ _id: id, accountId })) > 0;
  }
}
