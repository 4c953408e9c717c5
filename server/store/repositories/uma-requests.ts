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

export class UmaRequests {
  private constructor(
    readonly tickets: Collection<TicketDocument>,
    readonly requests: Collection<AccessRequestDocument>,
    readonly approvals: Collection<ApprovalDocument>,
    readonly pcts: Collection<PctDocument>,
  ) {}

  static async open(store: Store) {
    return new UmaRequests(
      await store.collection<TicketDocument>('uma_tickets'),
      await store.collection<AccessRequestDocument>('uma_requests', { indexed: ['ownerId', 'status'] }),
      await store.collection<ApprovalDocument>('uma_approvals', { indexed: ['ownerId'] }),
      await store.collection<PctDocument>('uma_pcts'),
    );
  }
}
