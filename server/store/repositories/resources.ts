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

export class Resources {
  private constructor(readonly collection: Collection<ResourceDocument>) {}

  static async open(store: Store) {
    return new Resources(await store.collection<ResourceDocument>('resources', { indexed: ['ownerId', 'resourceServerId'] }));
  }

  /** Resources of this resource server, optionally one by id. */
  ofServer(resourceServerId: string) {
    return this.collection.find({ resourceServerId }, { sort: { createdAt: 1 } });
  }

  find(id: string, resourceServerId: string) {
    return this.collection.findOne({ _id: id, resourceServerId });
  }

  ofOwner(ownerId: string) {
    return this.collection.find({ ownerId }, { sort: { createdAt: 1 } });
  }

  byIds(ids: string[]) {
    return this.collection.find({ _id: { $in: ids } });
  }
}
