import type { Collection, Store, StoredDocument } from '../port.js';

/** A resource set registered by a resource server for its owner (UMA Federated Authorization §3). */
export interface ResourceDocument extends StoredDocument {
  /** The resource id (`_id` in UMA responses). */
  _id: string;
  ownerId: string;
  /** The client_id of the resource server that registered it. */
  resourceServerId: string;
  name?: string;
  type?: string;
  description?: string;
  icon_uri?: string;
  resource_scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Whose resources: the owner who granted the PAT and the resource server it was granted to. */
export interface ResourceHolder {
  ownerId: string;
  resourceServerId: string;
}

export class Resources {
  private constructor(private readonly collection: Collection<ResourceDocument>) {}

  static async open(store: Store) {
    return new Resources(await store.collection<ResourceDocument>('resources', { indexed: ['ownerId', 'resourceServerId'] }));
  }

  /** Stores a newly registered resource (its `_id` must be new). */
  register(resource: ResourceDocument): Promise<void> {
    return this.collection.insert(resource);
  }

  /** The resources of this owner registered by this resource server, oldest first. */
  ownedBy(holder: ResourceHolder): Promise<ResourceDocument[]> {
    return this.collection.find({ ownerId: holder.ownerId, resourceServerId: holder.resourceServerId }, { sort: { createdAt: 1 } });
  }

  /** One resource of the holder; another holder's is not found. */
  findOwned(holder: ResourceHolder, id: string): Promise<ResourceDocument | null> {
    return this.collection.findOne(ownFilter(holder, id));
  }

  /** Those of `ids` that belong to the holder. */
  ownedAmong(holder: ResourceHolder, ids: string[]): Promise<ResourceDocument[]> {
    return this.collection.find({ _id: { $in: ids }, ownerId: holder.ownerId, resourceServerId: holder.resourceServerId });
  }

  /** Sets fields on one resource of the holder, in one atomic write; false when it has none with this id. */
  async updateOwned(holder: ResourceHolder, id: string, fields: Partial<Omit<ResourceDocument, '_id' | 'ownerId' | 'resourceServerId'>>): Promise<boolean> {
    return (await this.collection.update(ownFilter(holder, id), fields)) > 0;
  }

  /** Writes a resource whole, replacing the stored one (members it lacks are removed). */
  rewrite(resource: ResourceDocument): Promise<void> {
    return this.collection.upsert(resource);
  }

  /** Deletes one resource of the holder; false when it has none with this id. */
  async deleteOwned(holder: ResourceHolder, id: string): Promise<boolean> {
    return (await this.collection.delete(ownFilter(holder, id))) > 0;
  }

  /** Resources of this resource server, oldest first. */
  ofServer(resourceServerId: string) {
    return this.collection.find({ resourceServerId }, { sort: { createdAt: 1 } });
  }

  /** Every resource of the owner, oldest first. */
  ofOwner(ownerId: string) {
    return this.collection.find({ ownerId }, { sort: { createdAt: 1 } });
  }

  byIds(ids: string[]) {
    return this.collection.find({ _id: { $in: ids } });
  }
}

const ownFilter = (holder: ResourceHolder, id: string) => ({ _id: id, ownerId: holder.ownerId, resourceServerId: holder.resourceServerId });
