import type { JSONWebKeySet } from 'jose';
import { DuplicateKeyError, type Collection, type Store, type StoredDocument } from '../port.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** Registered client metadata (RFC 7591 §2 names). */
export interface ClientMetadata {
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  scope: string;
  application_type?: 'web' | 'native';
  jwks?: JSONWebKeySet;
  jwks_uri?: string;
  token_endpoint_auth_signing_alg?: string;
  /** OpenID Connect Registration §2; unset: see server/oauth/id-token-algorithm.ts. */
  id_token_signed_response_alg?: 'ES256' | 'RS256';
  /** Assent's member: the FHIR bases (no trailing slash) whose resource server this client is (it may introspect the tokens issued for them); operator-configured only. */
  fhir_base_urls?: string[];
  [extension: string]: unknown;
}

export interface ClientDocument extends StoredDocument {
  /** The client_id. */
  _id: string;
  metadata: ClientMetadata;
  secretHash?: string;
  registrationTokenHash?: string;
  source: 'seed' | 'registration' | 'operator';
  createdAt: Date;
  /** When a client authentication last failed: throttling is checked only within its window (server/oauth/clients/authenticate.ts). */
  authFailedAt?: Date;
}

/** A used private_key_jwt `jti`: `_id` is `${client_id}:${jti}`, kept until the assertion expires. */
interface AssertionDocument extends StoredDocument {
  expiresAt: Date;
}

export class Clients {
  private constructor(
    private readonly clients: Collection<ClientDocument>,
    private readonly assertions: Collection<AssertionDocument>,
  ) {}

  static async open(store: Store) {
    return new Clients(
      await store.collection<ClientDocument>('clients'),
      await store.collection<AssertionDocument>('client_assertions'),
    );
  }

  /** Throws DuplicateKeyError when the client_id is taken. */
  create(client: ClientDocument) {
    return this.clients.insert(client);
  }

  byId(clientId: string) {
    return this.clients.findOne({ _id: clientId });
  }

  /** Every registered client, by client_id (the token administration page). */
  all() {
    return this.clients.find({}, { sort: { _id: 1 } });
  }

  /** Replaces a client's metadata, leaving its credentials alone; false when the client is gone. */
  async replaceMetadata(clientId: string, metadata: ClientMetadata): Promise<boolean> {
    return (await this.clients.update({ _id: clientId }, { metadata })) > 0;
  }

  /**
   * Writes an operator-configured client over whatever had its client_id (source `operator`, no
   * registration access token), keeping when it first appeared and its last failed authentication.
   */
  async putOperatorClient(clientId: string, metadata: ClientMetadata, secretHash: string | undefined): Promise<void> {
    const existing = await this.byId(clientId);
    await this.clients.upsert({
      _id: clientId,
      metadata,
      ...(secretHash ? { secretHash } : {}),
      source: 'operator',
      createdAt: existing?.createdAt ?? new Date(),
      ...(existing?.authFailedAt ? { authFailedAt: existing.authFailedAt } : {}),
    });
  }

  /** The client_ids of every operator-configured client stored. */
  async operatorClientIds(): Promise<string[]> {
    return (await this.clients.find({ source: 'operator' })).map((client) => client._id);
  }

  /** False when there was no such client. */
  async delete(clientId: string): Promise<boolean> {
    return (await this.clients.delete({ _id: clientId })) > 0;
  }

  /**
   * Records a private_key_jwt assertion's `jti` as used until `expiresAt`. Returns false when it
   * was already used (a replay): the insert is the atomic check, whichever process sees it.
   */
  async useAssertionId(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.assertions.insert({ _id: `${clientId}:${jti}`, expiresAt });
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  /** The origins (scheme://host:port) of every registered client's redirect URIs. */
  async redirectOrigins(): Promise<Set<string>> {
    const origins = new Set<string>();
    for (const client of await this.clients.find({})) {
      for (const uri of client.metadata.redirect_uris) {
        const origin = originOf(uri);
        if (origin) origins.add(origin);
      }
    }
    return origins;
  }

  recordAuthenticationFailure(clientId: string, at: Date) {
    return this.clients.update({ _id: clientId }, { authFailedAt: at });
  }
}

/** A URL's origin; undefined for a URL without one (custom schemes of native apps) or not a URL. */
function originOf(uri: string): string | undefined {
  try {
    const { origin } = new URL(uri);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
