import type { SharingRule } from '../../policy/facts.js';
import type { Collection, Store, StoredDocument } from '../port.js';

export type { SharingRule };

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
