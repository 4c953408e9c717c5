import type { Config } from '../config/config.js';
import type { ClientAuthenticationRequest } from '../oauth/clients/authenticate.js';
import type { ClientRegistration } from '../oauth/clients/registration.js';
import type { FederationStates } from '../federation/federation-states.js';
import type { ProviderMetadata } from '../federation/provider-metadata.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Logger } from '../logger.js';
import type { Interactions } from '../oauth/interactions.js';
import type { Launches } from '../store/repositories/launches.js';
import type { TokenService } from '../oauth/token-service.js';
import type { DecisionLog } from '../policy/decision-log.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Logins } from '../sessions/logins.js';
import type { Sessions } from '../store/repositories/sessions.js';
import type { Store } from '../store/port.js';
import type { Accounts } from '../store/repositories/accounts.js';
import type { ClientDocument, Clients } from '../store/repositories/clients.js';
import type { Grants } from '../store/repositories/grants.js';
import type { Identities } from '../store/repositories/identities.js';
import type { Tokens } from '../store/repositories/tokens.js';
import type { Resources } from '../store/repositories/resources.js';
import type { SharingRules } from '../store/repositories/sharing-rules.js';
import type { UmaStore } from '../store/repositories/uma-requests.js';
import type { ClaimsInteractions } from '../store/repositories/claims-interactions.js';
import type { Views } from '../views/render.js';

/** Everything a request handler may use, built once at start-up (server/runtime.ts). */
export interface Services {
  config: Config & { issuer: string };
  logger: Logger;
  store: Store;
  policy: PolicyEngine;
  decisions: DecisionLog;
  keys: KeyRing;
  accounts: Accounts;
  clients: Clients;
  grants: Grants;
  tokens: Tokens;
  resources: Resources;
  sharingRules: SharingRules;
  uma: UmaStore;
  /** UMA claims interactions in progress (browser-bound). */
  claimsInteractions: ClaimsInteractions;
  identities: Identities;
  /** Trips to upstream identity providers in progress (state, nonce, PKCE verifier). */
  federationStates: FederationStates;
  /** The configured upstream identity providers (config.upstreamProviders). */
  upstream: ProviderMetadata;
  sessions: Sessions;
  interactions: Interactions;
  /** SMART EHR launch contexts (short-lived, single-use). */
  launches: Launches;
  logins: Logins;
  tokenService: TokenService;
  views: Views;
  authenticateClient(request: ClientAuthenticationRequest): Promise<ClientDocument>;
  /** RFC 7591/7592 registration, its deletion wired to revoke what the client was issued. */
  registration: ClientRegistration;
}
