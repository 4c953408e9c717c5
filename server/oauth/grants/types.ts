import type { LaunchContext } from '../../smart/launch-context.js';
import type { ClientDocument } from '../../store/repositories/clients.js';

/** SMART App Launch: the token response carries the launch context (patient, encounter, fhirContext, …). */
export interface TokenResponse extends LaunchContext {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Absent when the token has no scope (client_credentials with nothing that needs no user). */
  scope?: string;
  id_token?: string;
  refresh_token?: string;
  /** UMA: a persisted claims token, and whether an RPT was upgraded. */
  pct?: string;
  upgraded?: boolean;
  /** RFC 8693 §2.2.1: the type of the token issued by a token exchange. */
  issued_token_type?: string;
}

/**
 * A grant type handler of the token endpoint: the client is already authenticated. `Deps` is what
 * the handler uses (each grant declares its own); the endpoint hands it everything it has.
 */
export type GrantHandler<Deps> = (deps: Deps, client: ClientDocument, params: Record<string, unknown>) => Promise<TokenResponse>;
