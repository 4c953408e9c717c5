import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { projectRoot } from '../../config/config.js';
import { generateSecret, hashSecret, secretMatches } from '../../crypto/secrets.js';
import { invalidClientMetadata, invalidRedirectUri, invalidRequest, invalidToken, type ProtocolError } from '../../protocol/errors.js';
import type { DecisionLog } from '../../policy/decision-log.js';
import type { RegistrationInput } from '../../policy/entrypoints.js';
import { normalizeFhirBase } from '../../smart/fhir-base.js';
import type { ClientDocument, ClientMetadata, Clients } from '../../store/repositories/clients.js';
import { consentWithoutUserInput } from '../consent.js';
import { DEFAULT_CLIENT_SCOPES } from '../scopes.js';
import { usesClientSecret } from './authenticate.js';

export interface RegistrationDeps {
  clients: Clients;
  /** Asked which default scopes a client that only acts for itself can use (the `consent` policy). */
  decisions: DecisionLog;
  config: { issuer: string; allowInsecureRedirects?: boolean };
  /** Revokes what a client was issued (server/oauth/clients/client-revocation.ts); run before and after it is deleted. */
  revokeIssuance: (clientId: string) => Promise<void>;
}

/** The RFC 7591 §3.2.1 client information response (also RFC 7592 §3); `scope` is absent when the client has none. */
export type ClientInformation = Omit<ClientMetadata, 'scope'> & {
  scope?: string;
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_access_token: string;
  registration_client_uri: string;
};

/**
 * RFC 7591 dynamic registration and RFC 7592 management (read, replace, delete) of registered
 * clients. Client secrets and registration access tokens are shown once and stored hashed; a read
 * or update echoes the registration access token it was given, so nothing is rotated silently.
 * Seeded clients are managed through the seed file, never here.
 */
export class ClientRegistration {
  constructor(private readonly deps: RegistrationDeps) {}

  async register(body: unknown): Promise<ClientInformation> {
    const clientId = randomBytes(16).toString('base64url');
    const metadata = await clientMetadata(this.deps, 'registration', clientId, body);
    const secret = usesClientSecret(metadata.token_endpoint_auth_method) ? generateSecret() : undefined;
    const registrationToken = generateSecret();
    const client: ClientDocument = {
      _id: clientId,
      metadata,
      ...(secret ? { secretHash: hashSecret(secret) } : {}),
      registrationTokenHash: hashSecret(registrationToken),
      source: 'registration',
      createdAt: new Date(),
    };
    await this.deps.clients.create(client);
    return this.information(client, registrationToken, secret);
  }

  async read(clientId: string, registrationToken: string): Promise<ClientInformation> {
    return this.information(await this.authorize(clientId, registrationToken), registrationToken);
  }

  /** RFC 7592 §2.2: the body is the client's complete metadata, replacing what was registered. */
  async update(clientId: string, registrationToken: string, body: unknown): Promise<ClientInformation> {
    const client = await this.authorize(clientId, registrationToken);
    const { client_id: bodyClientId, client_secret: bodySecret } = isObject(body) ? body : {};
    if (bodyClientId !== clientId) throw invalidRequest('client_id in the body must be the client_id being updated');
    if (bodySecret !== undefined && !(typeof bodySecret === 'string' && client.secretHash && secretMatches(bodySecret, client.secretHash))) {
      throw invalidRequest('client_secret does not match the registered client secret');
    }
    const metadata = await clientMetadata(this.deps, 'registration', clientId, body);
    if (usesClientSecret(metadata.token_endpoint_auth_method) !== usesClientSecret(client.metadata.token_endpoint_auth_method)) {
      throw invalidClientMetadata('token_endpoint_auth_method cannot change between secret and secretless methods; register a new client instead');
    }
    if (!(await this.deps.clients.replaceMetadata(clientId, metadata))) throw registrationTokenRefused();
    return this.information({ ...client, metadata }, registrationToken);
  }

  /**
   * Revokes what the client holds, deletes it, then revokes once more what it obtained in between.
   * Revoking first means a failure part-way leaves the client in place, so the delete can be
   * sent again; nothing it was issued outlives a delete that was answered.
   */
  async delete(clientId: string, registrationToken: string): Promise<void> {
    await this.authorize(clientId, registrationToken);
    await this.deps.revokeIssuance(clientId);
    if (!(await this.deps.clients.delete(clientId))) throw registrationTokenRefused();
    await this.deps.revokeIssuance(clientId);
  }

  /** The same answer whether the client is missing, seeded or the token is wrong (RFC 7592 §2). */
  private async authorize(clientId: string, registrationToken: string): Promise<ClientDocument> {
    const client = await this.deps.clients.byId(clientId);
    const hash = client?.source === 'registration' ? client.registrationTokenHash : undefined;
    if (!client || !hash || !secretMatches(registrationToken, hash)) throw registrationTokenRefused();
    return client;
  }

  private information(client: ClientDocument, registrationToken: string, secret?: string): ClientInformation {
    // An empty scope (no scope at all) is left out, so the metadata can be sent back as it was read (RFC 7592 §2.2).
    const { scope, ...metadata } = client.metadata;
    return {
      client_id: client._id,
      client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
      ...(secret ? { client_secret: secret } : {}),
      ...(client.secretHash ? { client_secret_expires_at: 0 } : {}),
      ...metadata,
      ...(scope ? { scope } : {}),
      registration_access_token: registrationToken,
      registration_client_uri: `${this.deps.config.issuer}/register/${encodeURIComponent(client._id)}`,
    };
  }
}

/**
 * A registration's metadata (RFC 7591 §2) from `source`, checked, with defaults filled, once the
 * `registration` policy allowed its scopes and members: a refusal is invalid_client_metadata
 * naming each refused item. The decision is recorded like any other.
 */
export async function clientMetadata(deps: { decisions: DecisionLog; config: MetadataConfig }, source: RegistrationInput['source'], clientId: string, body: unknown): Promise<ClientMetadata> {
  const metadata = await validMetadata(body, deps.config, (grantTypes) => defaultScopes(deps.decisions, clientId, grantTypes));
  const { result } = await deps.decisions.decide('registration', registrationInput(source, metadata));
  if (!result.allow) {
    throw invalidClientMetadata(`only the operator can configure ${result.refused.map((item) => (item.kind === 'scope' ? `scope ${item.name}` : item.name)).join(', ')}`);
  }
  return metadata;
}

/** The `registration` input: where the client comes from, its scopes, and the names of its metadata members. */
export function registrationInput(source: RegistrationInput['source'], metadata: ClientMetadata): RegistrationInput {
  return { source, scopes: [...new Set(metadata.scope.split(' ').filter(Boolean))], members: Object.keys(metadata) };
}

/**
 * The scope registered when the registration names none, by grant type: a client that can act
 * for a user gets DEFAULT_CLIENT_SCOPES; one that only acts for itself (client_credentials)
 * gets those of them the `consent` policy grants with no user behind the request — none
 * today, since they all need a user. The decision is recorded like any other.
 */
async function defaultScopes(decisions: DecisionLog, clientId: string, grantTypes: readonly string[]): Promise<string[]> {
  if (grantTypes.some((grant) => grant !== 'client_credentials')) return DEFAULT_CLIENT_SCOPES;
  const { result } = await decisions.decide('consent', consentWithoutUserInput(clientId, DEFAULT_CLIENT_SCOPES, DEFAULT_CLIENT_SCOPES));
  return result.granted;
}

/** The one answer to a wrong registration access token, whatever was wrong (RFC 7592 §2). */
const registrationTokenRefused = () => invalidToken('the registration access token is not valid for this client');

type MetadataInput = Partial<ClientMetadata>;

/** What the metadata checks read of the configuration. */
type MetadataConfig = Pick<RegistrationDeps['config'], 'allowInsecureRedirects'>;

/**
 * Schema-valid metadata with RFC 7591 §2 defaults filled and the rules that span fields checked.
 * Unknown members are dropped (RFC 7591 §2); null members count as omitted (RFC 7592 §2.2).
 * The default scope is asked for only once everything else is valid.
 */
async function validMetadata(body: unknown, config: MetadataConfig, defaultScopes: (grantTypes: readonly string[]) => Promise<string[]>): Promise<ClientMetadata> {
  if (!isObject(body)) throw invalidClientMetadata('the request body must be a JSON object');
  const input = Object.fromEntries(Object.entries(structuredClone(body)).filter(([, value]) => value !== null));
  const validate = schemaValidator();
  if (!validate(input)) throw schemaError(validate.errors?.[0]);
  const grantTypes = input.grant_types ?? ['authorization_code'];
  const metadata: ClientMetadata = {
    ...input,
    redirect_uris: input.redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: input.response_types ?? (grantTypes.includes('authorization_code') ? ['code'] : []),
    token_endpoint_auth_method: input.token_endpoint_auth_method ?? 'client_secret_basic',
    application_type: input.application_type ?? 'web',
    scope: input.scope ?? '',
    ...(input.fhir_base_urls ? { fhir_base_urls: input.fhir_base_urls.map(normalizeFhirBase) } : {}),
  };
  checkConsistency(metadata, config);
  checkRedirectUris(metadata, config);
  return input.scope === undefined ? { ...metadata, scope: (await defaultScopes(grantTypes)).join(' ') } : metadata;
}

function checkConsistency(metadata: ClientMetadata, config: MetadataConfig) {
  const usesCode = metadata.grant_types.includes('authorization_code');
  const method = metadata.token_endpoint_auth_method;
  if (usesCode && metadata.redirect_uris.length === 0) throw invalidRedirectUri('redirect_uris is required for the authorization_code grant');
  if (usesCode !== metadata.response_types.includes('code')) {
    throw invalidClientMetadata('response_types ["code"] and the authorization_code grant go together (RFC 7591 §2.1)');
  }
  if (method === 'none' && metadata.grant_types.includes('client_credentials')) {
    throw invalidClientMetadata('a public client (token_endpoint_auth_method none) cannot use the client_credentials grant');
  }
  if (method === 'private_key_jwt' && !metadata.jwks && !metadata.jwks_uri) throw invalidClientMetadata('private_key_jwt needs jwks or jwks_uri');
  if (metadata.token_endpoint_auth_signing_alg && method !== 'private_key_jwt') {
    throw invalidClientMetadata('token_endpoint_auth_signing_alg applies only to private_key_jwt');
  }
  // The server fetches jwks_uri itself: plain http only in the same development mode as redirects.
  if (metadata.jwks_uri && !metadata.jwks_uri.startsWith('https://') && !config.allowInsecureRedirects) throw invalidClientMetadata('jwks_uri must use https');
}

const REDIRECT_LISTS = ['redirect_uris', 'claims_redirect_uris', 'post_logout_redirect_uris'] as const;

function checkRedirectUris(metadata: ClientMetadata, config: MetadataConfig) {
  const native = metadata.application_type === 'native';
  for (const list of REDIRECT_LISTS) {
    const uris = (metadata[list] ?? []) as string[];
    uris.forEach((uri, index) => {
      const problem = redirectUriProblem(uri, native, config.allowInsecureRedirects ?? false);
      if (problem) throw invalidRedirectUri(`${list}/${index} ${problem}`);
    });
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Redirection endpoints (RFC 6749 §3.1.2, RFC 9700 §2.1, RFC 8252 §7): absolute, no fragment, no
 * credentials; https; http only on a loopback host (or anywhere when insecure redirects are
 * allowed, for development); private-use schemes in reverse-domain form only for native clients.
 */
function redirectUriProblem(uri: string, native: boolean, allowInsecure: boolean): string | undefined {
  if (/[^\x21-\x7e]/.test(uri)) return 'must be printable ASCII without spaces (percent-encode the rest)';
  if (uri.includes('#')) return 'must not contain a fragment';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.username || url.password) return 'must not contain user credentials';
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https' || scheme === 'http') {
    if (!/^https?:\/\/[^/]/i.test(uri)) return 'must be an absolute URI';
    if (wildcardLike(url.hostname)) return 'must name one host: no wildcard (*) and no empty label in the host';
    if (scheme === 'https' || LOOPBACK_HOSTS.has(url.hostname) || allowInsecure) return undefined;
    return 'must use https (plain http only on a loopback host: 127.0.0.1, [::1] or localhost)';
  }
  if (!native) return 'must use https (private-use schemes are only for native clients)';
  if (!scheme.includes('.')) return 'must use https, http on a loopback host, or a private-use scheme in reverse-domain form (com.example.app:/callback)';
  return undefined;
}

/**
 * Redirect URIs are compared exactly, so a pattern would never match; but a host like
 * `*.client.example` (also percent-encoded, which the URL parser decodes) or `.client.example`
 * reads as one, and other servers treat it so. Only a trailing dot (a fully qualified name) may leave a label empty.
 */
function wildcardLike(hostname: string): boolean {
  return hostname.includes('*') || hostname.replace(/\.$/, '').split('.').includes('');
}

function schemaError(error: ErrorObject | undefined): ProtocolError {
  const field = error?.instancePath.slice(1) ?? '';
  const description = field ? `${field} ${schemaMessage(error)}` : `client metadata: ${schemaMessage(error)}`;
  return REDIRECT_LISTS.some((list) => field === list || field.startsWith(`${list}/`)) ? invalidRedirectUri(description) : invalidClientMetadata(description);
}

function schemaMessage(error: ErrorObject | undefined): string {
  if (!error) return 'is invalid';
  if (error.keyword === 'enum') return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  // The schema's two `false` subschemas, whose ajv wording ("boolean schema is false") says nothing.
  if (error.keyword === 'false schema') {
    return error.schemaPath.startsWith('#/dependentSchemas/jwks/') ? 'must not be given together with jwks' : 'must not be given: jwks holds public keys only';
  }
  return error.message ?? 'is invalid';
}

let compiled: ValidateFunction<MetadataInput> | undefined;
function schemaValidator(): ValidateFunction<MetadataInput> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/client-metadata.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ strict: true, removeAdditional: true });
    formats.default(ajv);
    compiled = ajv.compile<MetadataInput>(schema);
  }
  return compiled;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
