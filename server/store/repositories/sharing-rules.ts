import type { Collection, Store, StoredDocument } from '../port.js';

/** The owner's sharing rule (schemas/sharing-rule.schema.json), as the `claims` policy reads it. */
export interface SharingRule {
  id: string;
  effect: 'allow' | 'deny';
  grantee:
    | { email: string }
    | { email_domain: string }
    | { issuer: string; subject: string }
    | { claim: { name: string; value: string } };
  resources: { all: true } | { ids: string[] } | { types: string[] };
  scopes?: string[];
  conditions?: { valid_from?: string; valid_until?: string; email_verified?: boolean; issuers?: string[] };
  /** Free text the owner wrote to remember why. */
  note?: string;
}

export interface SharingRuleDocument extends StoredDocument {
  ownerId: string;
  rule: SharingRule;
  createdAt: Date;
}

export class SharingRules {
  private constructor(private readonly rules: Collection<SharingRuleDocument>) {}

  static async open(store: Store) {
    return new SharingRules(await store.collection<SharingRuleDocument>('sharing_rules', { indexed: ['ownerId'] }));
  }

  async ofOwner(ownerId: string): Promise<SharingRule[]> {
    return (await this.rules.find({ ownerId }, { sort: { createdAt: 1 } })).map((d) => d.rule);
  }

  async find(ownerId: string, id: string): Promise<SharingRule | null> {
    return (await this.rules.findOne({ _id: keyOf(ownerId, id), ownerId }))?.rule ?? null;
  }

  /** Throws DuplicateKeyError when this owner already has a rule with this id. */
  add(ownerId: string, rule: SharingRule) {
    return this.rules.insert({ _id: keyOf(ownerId, rule.id), ownerId, rule, createdAt: new Date() });
  }

  async replace(ownerId: string, rule: SharingRule) {
    return (await this.rules.update({ _id: keyOf(ownerId, rule.id), ownerId }, { rule })) > 0;
  }

  async remove(ownerId: string, id: string) {
    return (await this.rules.delete({ _id: keyOf(ownerId, id), ownerId })) > 0;
  }
}

/** Rule ids are the owner's own names ("cardiologist"): unique per owner, not across owners. */
const keyOf = (ownerId: string, id: string) => `${ownerId}/${id}`;
