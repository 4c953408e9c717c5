import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { secretMatches } from '../../crypto/secrets.js';
import { clientThrottled, invalidRequest, ProtocolError, unauthenticatedClient } from '../../protocol/errors.js';
import { readParams } from '../../protocol/params.js';
import { addressKey } from '../../throttle/address-key.js';
import { FailureCounter } from '../../throttle/failure-counter.js';
import type { Store } from '../../store/port.js';
import type { ClientDocument, Clients, TokenEndpointAuthMethod } from '../../store/repositories/clients.js';

/** Token endpoint client authentication methods, in the order discovery lists them. */
export const CLIENT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

/** Algorithms a private_key_jwt assertion may use: asymmetric only, so never `none` or HS*. */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'PS256', 'EdDSA'];

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Throttling of guessable credentials, in the store (so across processes), by client and source
 * address (an IPv6 address by its /64): past `freeAttempts` failed authentications of a client
 * using a client secret from one address within the window, that address must wait before it may
 * try that client again, a wait that doubles with each further failure (1 s, 2 s, 4 s, … up to the
 * window); meanwhile it is answered 429 invalid_client with Retry-After, even with the right
 * secret. Other addresses are not affected, so an attacker who knows a client_id throttles only
 * itself and cannot lock the real client out.
 *
 * The backstop against many addresses: while the client has `underAttack.clientFailures` failures
 * in the window from all addresses together, every address gets only `underAttack.freeAttempts`
 * free failures and then waits from `underAttack.firstDelaySeconds` on. That slows every guessing
 * address and never refuses a correct secret from an address that has not failed.
 *
 * The client document carries the time of its last failure, so while nobody has failed within the
 * window the success path reads nothing more than the client. Clients without a secret (none,
 * private_key_jwt) have nothing to guess and are never throttled.
 */
export const CLIENT_AUTH_THROTTLE = {
  windowSeconds: 300,
  freeAttempts: 10,
  firstDelaySeconds: 1,
  underAttack: { clientFailures: 100, freeAttempts: 1, firstDelaySeconds: 30 },
};

/** Tolerated clock difference between the client and us for assertion times. */
const CLOCK_SKEW_SECONDS = 30;
/** How far ahead an assertion's exp may be: assertions are for one request, not to be kept. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_JTI_LENGTH = 256;

export function usesClientSecret(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

export interface ClientAuthenticationDeps {
  clients: Clients;
  /** Failures keyed by client and address (clientAuthFailureCounters). */
  failures: ClientAuthFailures;
  keySets: ClientKeySets;
  issuer: string;
  now?: () => Date;
}

export interface ClientAuthenticationRequest {
  /** The Authorization header, if any. */
  authorization?: string;
  /** The parsed form body. */
  body: Record<string, unknown>;
  /** The source address of the request (the socket's: the server trusts no proxy header). */
  address: string;
}

export interface ClientAuthFailures {
  /** Per (client, address). */
  perAddress: FailureCounter;
  /** Per client, from all addresses: the backstop. */
  perClient: FailureCounter;
}

export async function clientAuthFailureCounters(store: Store): Promise<ClientAuthFailures> {
  const { windowSeconds, freeAttempts, firstDelaySeconds, underAttack } = CLIENT_AUTH_THROTTLE;
  return {
    perAddress: await FailureCounter.open(store, 'client_auth_failures', { windowSeconds, freeAttempts, firstDelaySeconds }),
    perClient: await FailureCounter.open(store, 'client_auth_failures_all', { windowSeconds, freeAttempts: underAttack.clientFailures, firstDelaySeconds }),
  };
}

/** `authenticateClient` bound to its dependencies, as the endpoints call it. */
export async function clientAuthenticator(store: Store, clients: Clients, config: { issuer: string }) {
  const deps: ClientAuthenticationDeps = {
    clients,
    failures: await clientAuthFailureCounters(store),
    keySets: new ClientKeySets(),
    issuer: config.issuer,
  };
  return (request: ClientAuthenticationRequest) => authenticateClient(request, deps);
}

type Credentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; assertion: string }
  | { method: 'none'; clientId: string };

/**
 * Authenticates the client at the token, introspection and revocation endpoints (RFC 6749 §2.3,
 * RFC 7523 §2.2) with exactly one method, which must be the one it registered. Failures are 401
 * invalid_client; malformed requests (two methods at once, repeated parameters) invalid_request.
 */
export async function authenticateClient(request: ClientAuthenticationRequest, deps: ClientAuthenticationDeps): Promise<ClientDocument> {
  const basicAttempted = Boolean(request.authorization);
  const fail = (description: string) => unauthenticatedClient(description, basicAttempted);
  const credentials = presentedCredentials(request, fail);
  const client = await deps.clients.byId(credentials.clientId);
  if (!client) throw fail('unknown client');
  const now = deps.now?.() ?? new Date();
  const failureKey = `${client._id} ${addressKey(request.address)}`;
  const retryAfter = await throttled(client, failureKey, deps, now);
  if (retryAfter > 0) throw clientThrottled(retryAfter);
  try {
    await verifyCredentials(credentials, client, deps, now, fail);
  } catch (err) {
    if (err instanceof ProtocolError && err.status === 401) await recordFailure(client, failureKey, deps, now);
    throw err;
  }
  return client;
}

/** Seconds this address must wait before it may authenticate as this client again; 0 at once. */
async function throttled(client: ClientDocument, failureKey: string, deps: ClientAuthenticationDeps, now: Date): Promise<number> {
  const { windowSeconds, underAttack } = CLIENT_AUTH_THROTTLE;
  if (!client.authFailedAt || now.getTime() - client.authFailedAt.getTime() >= windowSeconds * 1000) return 0;
  const underway = (await deps.failures.perClient.count(client._id)) >= underAttack.clientFailures;
  return (await deps.failures.perAddress.check(failureKey, now.getTime(), underway ? underAttack : undefined)).retryAfter;
}

/** Which method the request uses, and its credentials; no store access. */
function presentedCredentials(request: ClientAuthenticationRequest, fail: (description: string) => ProtocolError): Credentials {
  const params = readParams(request.body, ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']);
  const usesAssertion = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  const methods = [Boolean(request.authorization), params.client_secret !== undefined, usesAssertion].filter(Boolean).length;
  if (methods > 1) throw invalidRequest('use exactly one client authentication method');

  if (request.authorization) {
    const basic = parseBasic(request.authorization);
    if (!basic) throw fail('malformed Basic authorization header');
    if (params.client_id !== undefined && params.client_id !== basic.clientId) throw invalidRequest('client_id does not match the authorization header');
    return { method: 'client_secret_basic', ...basic };
  }
  if (usesAssertion) {
    if (params.client_assertion_type !== JWT_BEARER_ASSERTION) throw fail(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    if (params.client_assertion === undefined) throw fail('client_assertion is missing');
    const clientId = assertedClientId(params.client_assertion);
    if (!clientId) throw fail('client_assertion is not a JWT with a sub claim');
    if (params.client_id !== undefined && params.client_id !== clientId) throw invalidRequest('client_id does not match the client assertion');
    return { method: 'private_key_jwt', clientId, assertion: params.client_assertion };
  }
  if (params.client_id === undefined) throw fail('client authentication is required');
  if (params.client_secret !== undefined) return { method: 'client_secret_post', clientId: params.client_id, secret: params.client_secret };
  return { method: 'none', clientId: params.client_id };
}

/** RFC 6749 §2.3.1: base64 of `form-urlencoded(client_id):form-urlencoded(client_secret)`. */
function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const [clientId, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)].map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    return clientId && secret ? { clientId, secret } : undefined;
  } catch {
    return undefined;
  }
}

/** The unverified `sub` of an assertion: only to find the client whose keys will verify it. */
function assertedClientId(assertion: string): string | undefined {
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub ? sub : undefined;
  } catch {
    return undefined;
  }
}

async function verifyCredentials(
  credentials: Credentials,
  client: ClientDocument,
  deps: ClientAuthenticationDeps,
  now: Date,
  fail: (description: string) => ProtocolError,
): Promise<void> {
  const registered = client.metadata.token_endpoint_auth_method;
  if (credentials.method !== registered) throw fail(`client is registered for ${registered}, not ${credentials.method}`);
  switch (credentials.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!client.secretHash || !secretMatches(credentials.secret, client.secretHash)) throw fail('client authentication failed');
      return;
    case 'private_key_jwt':
      return verifyAssertion(credentials.assertion, client, deps, now, fail);
    case 'none':
      return;
  }
}

/**
 * RFC 7523 §3: signed by a registered key with an allowed algorithm, iss = sub = client_id, aud
 * this issuer or its token endpoint, exp required; and beyond it: at most five minutes long and
 * single use (jti recorded until exp, across processes).
 */
async function verifyAssertion(
  assertion: string,
  client: ClientDocument,
  deps: ClientAuthenticationDeps,
  now: Date,
  fail: (description: string) => ProtocolError,
): Promise<void> {
  const pinned = client.metadata.token_endpoint_auth_signing_alg;
  // SMART Backend Services: a jku header may only point at the keys the client registered.
  if (jkuOf(assertion) !== undefined && jkuOf(assertion) !== client.metadata.jwks_uri) throw fail('client assertion jku is not the registered jwks_uri');
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, deps.keySets.forClient(client), {
      algorithms: pinned ? [pinned] : ASSERTION_ALGORITHMS,
      issuer: client._id,
      subject: client._id,
      audience: [deps.issuer, `${deps.issuer}/token`],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: now,
    }));
  } catch (err) {
    throw fail(assertionProblem(err));
  }
  const exp = payload.exp!;
  if (exp > now.getTime() / 1000 + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    throw fail(`client assertion exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`);
  }
  const { jti } = payload;
  if (typeof jti !== 'string' || !jti || jti.length > MAX_JTI_LENGTH) throw fail('client assertion jti must be a short string');
  const expiresAt = new Date((exp + CLOCK_SKEW_SECONDS) * 1000);
  if (!(await deps.clients.useAssertionId(client._id, jti, expiresAt))) throw fail('client assertion jti was already used');
}

function jkuOf(assertion: string): unknown {
  try {
    return decodeProtectedHeader(assertion).jku;
  } catch {
    return undefined;
  }
}

function assertionProblem(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'client assertion has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `client assertion ${err.claim} claim is invalid: ${err.reason}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'client assertion algorithm is not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) return 'client assertion signature does not verify with the registered keys';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) return 'client keys could not be loaded';
  return 'client assertion is malformed';
}

/** Counts a failure of a secret-using client, for its address and for the client as a whole. */
async function recordFailure(client: ClientDocument, failureKey: string, deps: ClientAuthenticationDeps, now: Date): Promise<void> {
  if (!usesClientSecret(client.metadata.token_endpoint_auth_method)) return;
  await Promise.all([
    deps.failures.perAddress.record(failureKey, now.getTime()),
    deps.failures.perClient.record(client._id, now.getTime()),
    deps.clients.recordAuthenticationFailure(client._id, now),
  ]);
}

const MAX_REMOTE_KEY_SETS = 1000;

/**
 * The verification keys of private_key_jwt clients: `jwks` by value, or `jwks_uri` through one
 * cached remote set per client and URI (jose refetches on an unknown `kid`, with a cooldown).
 */
export class ClientKeySets {
  private readonly remote = new Map<string, JWTVerifyGetKey>();

  /** Throws when the client registered no keys (registration requires them for private_key_jwt). */
  forClient(client: ClientDocument): JWTVerifyGetKey {
    const { jwks, jwks_uri: uri } = client.metadata;
    if (jwks) return createLocalJWKSet(jwks);
    if (!uri) throw new errors.JWKSInvalid('client has no registered keys');
    const key = `${client._id} ${uri}`;
    let set = this.remote.get(key);
    if (!set) {
      if (this.remote.size >= MAX_REMOTE_KEY_SETS) this.remote.delete(this.remote.keys().next().value!);
      set = createRemoteJWKSet(new URL(uri));
      this.remote.set(key, set);
    }
    return set;
  }
}
