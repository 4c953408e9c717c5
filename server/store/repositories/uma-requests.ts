import type { RequestingParty } from '../../policy/facts.js';
import type { Collection, Store, StoredDocument } from '../port.js';

export type { RequestingParty };

export interface RequestedPermission {
  resource_id: string;
  resource_scopes: string[];
}

/**
 * A permission ticket (UMA Grant §3.2), keyed by the hash of the ticket string: bound to the owner,
 * the resource server, the requested permissions and an expiry; single use. Claims gathered for it
 * (claims interaction) travel with it to the ticket that replaces it.
 */
export interface TicketDocument extends StoredDocument {
  ownerId: string;
  resourceServerId: string;
  permissions: RequestedPermission[];
  requestingParty?: RequestingParty;
  /** Set on a ticket handed to one client (claims interaction): only that client may redeem it. */
  clientId?: string;
  expiresAt: Date;
  consumedAt?: Date;
}

/** An access request the owner was asked about (`request_submitted`), and what they said. */
export interface AccessRequestDocument extends StoredDocument {
  ownerId: string;
  clientId: string;
  requestingParty: RequestingParty;
  permissions: RequestedPermission[];
  /** Canonical form of `permissions`, to recognise the same request again. */
  permissionKey: string;
  status: 'pending' | 'approved' | 'denied';
  createdAt: Date;
  decidedAt?: Date;
  /** The claims decision that led to the request, for the access history. */
  decisionId: string;
}

/** A one-off grant the owner gave by approving a request. */
export interface ApprovalDocument extends StoredDocument {
  ownerId: string;
  requestId: string;
  requestingParty: { iss: string; sub: string };
  resource_id: string;
  resource_scopes: string[];
  expiresAt: Date;
}

/** Persisted claims token (UMA Grant §3.3.3): the claims already proven, reusable by that client. */
export interface PctDocument extends StoredDocument {
  clientId: string;
  requestingParty: RequestingParty;
  expiresAt: Date;
}

/** Permission tickets, by the hash of the ticket string. */
export class Tickets {
  constructor(private readonly tickets: Collection<TicketDocument>) {}

  /** Stores a newly minted ticket. */
  create(ticket: TicketDocument): Promise<void> {
    return this.tickets.insert(ticket);
  }

  /** The unspent, unexpired ticket with this hash. */
  find(hash: string): Promise<TicketDocument | null> {
    return this.tickets.findOne({ _id: hash, consumedAt: { $exists: false } });
  }

  /** Spends the ticket: of concurrent spenders exactly one gets it; unknown, expired or spent → null. */
  spend(hash: string): Promise<TicketDocument | null> {
    return this.tickets.consume({ _id: hash, consumedAt: { $exists: false } }, { consumedAt: new Date() });
  }

  /** Keeps the ticket alive until `until` while the owner is being asked: the client polls with it. */
  async holdWhilePending(hash: string, until: Date): Promise<void> {
    await this.tickets.update({ _id: hash }, { expiresAt: until });
  }

  /** Deletes the tickets bound to a client (once the client is gone). */
  deleteOfClient(clientId: string): Promise<number> {
    return this.tickets.delete({ clientId });
  }
}

/** The access requests owners are asked about. */
export class AccessRequests {
  constructor(private readonly requests: Collection<AccessRequestDocument>) {}

  /** Files a request for the owner, unless the same one (same `_id`) is pending already: polling does not pile them up. */
  async submit(request: AccessRequestDocument): Promise<void> {
    if (await this.requests.findOne({ _id: request._id, status: 'pending' })) return;
    await this.requests.upsert(request);
  }

  /** The owner's pending requests, newest first. */
  pendingFor(ownerId: string): Promise<AccessRequestDocument[]> {
    return this.requests.find({ ownerId, status: 'pending' }, { sort: { createdAt: -1 } });
  }

  /** One pending request of this owner. */
  findPending(id: string, ownerId: string): Promise<AccessRequestDocument | null> {
    return this.requests.findOne({ _id: id, ownerId, status: 'pending' });
  }

  /** The owner's answer to a pending request of hers, given exactly once: a second answer (or another owner's) gets null. */
  decide(id: string, ownerId: string, status: 'approved' | 'denied', decidedAt = new Date()): Promise<AccessRequestDocument | null> {
    return this.requests.consume({ _id: id, ownerId, status: 'pending' }, { status, decidedAt });
  }

  /** Whether the owner already denied this party an identical request (same `permissionKey`). */
  async refusedBefore(ownerId: string, party: { iss: string; sub: string }, permissionKey: string): Promise<boolean> {
    return (await this.requests.count({ ownerId, status: 'denied', 'requestingParty.iss': party.iss, 'requestingParty.sub': party.sub, permissionKey })) > 0;
  }
}

/** One-off grants owners gave by approving requests. */
export class Approvals {
  constructor(private readonly approvals: Collection<ApprovalDocument>) {}

  /** Records an approval (again: the same `_id` replaces it). */
  give(approval: ApprovalDocument): Promise<void> {
    return this.approvals.upsert(approval);
  }

  /** The unexpired approvals the owner gave this party. */
  of(ownerId: string, party: { iss: string; sub: string }): Promise<ApprovalDocument[]> {
    return this.approvals.find({ ownerId, 'requestingParty.iss': party.iss, 'requestingParty.sub': party.sub });
  }
}

/** Persisted claims tokens, by the hash of the token string. */
export class Pcts {
  constructor(private readonly pcts: Collection<PctDocument>) {}

  issue(pct: PctDocument): Promise<void> {
    return this.pcts.insert(pct);
  }

  /** The unexpired PCT with this hash, if it was given to this client. */
  find(hash: string, clientId: string): Promise<PctDocument | null> {
    return this.pcts.findOne({ _id: hash, clientId });
  }

  /** Deletes the PCTs given to a client (once the client is gone). */
  deleteOfClient(clientId: string): Promise<number> {
    return this.pcts.delete({ clientId });
  }
}

/** What the UMA flows keep: tickets, the access requests owners are asked, their approvals, and PCTs. */
export class UmaStore {
  private constructor(
    readonly tickets: Tickets,
    readonly requests: AccessRequests,
    readonly approvals: Approvals,
    readonly pcts: Pcts,
  ) {}

  static async open(store: Store): Promise<UmaStore> {
    return new UmaStore(
      new Tickets(await store.collection<TicketDocument>('uma_tickets')),
      new AccessRequests(await store.collection<AccessRequestDocument>('uma_requests', { indexed: ['ownerId', 'status'] })),
      new Approvals(await store.collection<ApprovalDocument>('uma_approvals', { indexed: ['ownerId'] })),
      new Pcts(await store.collection<PctDocument>('uma_pcts')),
    );
  }
}
