import { readFile } from 'node:fs/promises';
import type { SmartScope } from '../smart/scopes.js';
import type { RequestingParty, SharingRule } from './facts.js';
import { ENTRYPOINTS_FILE } from './paths.js';

/** Input of `assent/consent/decision` (schemas/policy/consent.input.schema.json). */
export interface ConsentInput {
  /** RFC 3339; the policy's only clock. */
  now: string;
  client: { client_id: string; allowed_scopes: readonly string[] };
  /** Absent when the client acts for itself (client_credentials): nothing can be asked then. */
  user?: { sub: string; fhirUser?: string; patients?: readonly string[] };
  requested_scopes: readonly string[];
  /** Every scope this server knows (SMART resource scopes are decided from `smart` instead). */
  known_scopes: readonly string[];
  /** All of this user's grants, to any client; the policy picks the requesting client's. */
  prior_grants: readonly PriorGrant[];
  /** SMART facts; when present the `scopes` policy decides the SMART scopes. */
  smart?: SmartFacts;
  /** The patient's choice on the consent page; the output's `chosen` is then what to issue. */
  choice?: ConsentChoice;
}

/** The requested and registered resource scopes as parsed (malformed ones left out), and the launch context. */
export interface SmartFacts {
  requested: readonly SmartScope[];
  registered: readonly SmartScope[];
  launch?: { patient?: string };
}

export interface ConsentChoice {
  scopes: readonly string[];
  /** Observation categories (codes) chosen for a narrowable scope. */
  categories: readonly { scope: string; codes: readonly string[] }[];
}

/** Input of `assent/scopes/decision` (schemas/policy/scopes.input.schema.json): the consent input with its SMART facts. */
export type ScopesInput = ConsentInput & { smart: SmartFacts };

export type ScopesDenialReason =
  | 'malformed_scope'
  | 'not_allowed_for_client'
  | 'requires_user'
  | 'requires_no_user'
  | 'requires_practitioner'
  | 'no_patient_in_context'
  | 'patient_not_in_compartment'
  | 'requires_fhir_user';

/** A requested Observation scope the patient may narrow, with the category codes offered. */
export interface NarrowableScope {
  scope: string;
  codes: string[];
}

/** Output of `assent/scopes/decision` (schemas/policy/scopes.output.schema.json); arrays sorted. */
export interface ScopesOutput {
  denied: { scope: string; reason: ScopesDenialReason }[];
  /** Identity and launch scopes, shown locked. */
  locked: string[];
  categories: NarrowableScope[];
  /** With a choice: each narrowed scope and the category scopes it becomes. */
  narrowed: { scope: string; into: string[] }[];
}

export interface PriorGrant {
  client_id: string;
  scopes: readonly string[];
  granted_at: string;
}

export type ConsentDenialReason = 'unknown_scope' | ScopesDenialReason;

/** Output of `assent/consent/decision` (schemas/policy/consent.output.schema.json); arrays sorted. */
export interface ConsentOutput {
  /** Granted before by this user to this client: no need to ask again. */
  granted: string[];
  /** To show on the consent page (mandatory ones among them shown locked). */
  ask: string[];
  mandatory: string[];
  denied: { scope: string; reason: ConsentDenialReason }[];
  /** SMART Observation scopes the patient may narrow to categories. */
  categories: NarrowableScope[];
  /** Only with the input's `choice`: the scopes to issue. */
  chosen?: string[];
}

/** Input of `assent/introspection/decision` (schemas/policy/introspection.input.schema.json). */
export interface IntrospectionInput {
  /** The authenticated client, with the FHIR bases it serves (its metadata's fhir_base_urls, normalised; empty for none). */
  caller: { client_id: string; fhir_base_urls: string[] };
  token: { client_id: string; aud: string[]; token_type: 'Bearer' | 'refresh_token' };
}

export interface IntrospectionOutput {
  visible: boolean;
}

/** Input of `assent/claims/decision` (schemas/policy/claims.input.schema.json). */
export interface ClaimsInput {
  now: string;
  owner: { sub: string };
  client: { client_id: string };
  /** Absent until somebody is identified (pushed ID token, PCT, claims interaction). */
  requesting_party?: RequestingParty;
  /** The local account the requesting party is (signed in here, or a linked upstream identity); absent when none. */
  requesting_account?: { sub: string };
  ticket: { resources: { resource_id: string; type?: string; resource_scopes: string[] }[] };
  rules: SharingRule[];
  approvals: { id: string; requesting_party: { iss: string; sub: string }; resource_id: string; resource_scopes: string[]; expires_at: string }[];
  refused_before: boolean;
}

/** The `because` of a grant to the owner herself. */
export const OWNER_REASON = 'owner';

export interface ClaimsOutput {
  outcome: 'grant' | 'need_info' | 'request_submitted' | 'request_denied';
  permissions: { resource_id: string; resource_scopes: string[] }[];
  required_claims: { claim_token_format: string[]; name: string; friendly_name: string }[];
  /** Rule ids (or `approval:<id>`) behind a grant or a denial; `owner` (OWNER_REASON) for the owner's own access. */
  because: string[];
}

/** Input of `assent/exchange/decision` (schemas/policy/exchange.input.schema.json): RFC 8693. */
export interface ExchangeInput {
  now: string;
  client: { client_id: string; allowed_scopes: readonly string[] };
  /** The verified upstream identity of the subject_token. */
  subject: { iss: string; sub: string; email?: string; email_verified?: boolean; linked_account?: { sub: string } };
  requested_scopes: readonly string[];
  known_scopes: readonly string[];
  /** Issuers whose ID tokens this client may present (claimTokenAudiences). */
  trusted_issuers: readonly string[];
  /** The linked account's grants to any client (empty when unlinked); the policy picks this client's. */
  prior_grants: readonly { client_id: string; scopes: readonly string[]; granted_at: string }[];
}

export type ExchangeDenialReason = 'untrusted_issuer' | 'unknown_scope' | 'not_allowed_for_client' | 'never_exchanged' | 'interactive_only' | 'requires_linked_account' | 'not_consented';

/** Output of `assent/exchange/decision` (schemas/policy/exchange.output.schema.json); arrays sorted. */
export interface ExchangeOutput {
  granted: string[];
  denied: { scope: string; reason: ExchangeDenialReason }[];
}

/** Assent's own bearer APIs, by what their tokens must carry (policies/access/access.rego). */
export type BearerApi = 'uma_protection' | 'sharing_rules' | 'uma_authorization' | 'userinfo' | 'smart_launch';

/**
 * Input of `assent/access/decision` (schemas/policy/access.input.schema.json): may this verified
 * access token call this API, or may this session link a new identity?
 */
export type AccessInput =
  | {
      api: BearerApi;
      now: string;
      /** This server's issuer, which a token meant for it has in its audience. */
      issuer: string;
      /** The verified token's claims (RFC 9068): its signature, expiry and revocation were checked before. */
      token: { scope: string; sub?: string; client_id: string; aud: string[] };
    }
  | {
      api: 'link_identity';
      now: string;
      /** The signed-in account and when its holder last proved who they are (seconds since the epoch). */
      session: { sub: string; auth_time: number };
    }
  | {
      api: 'pick_patient';
      now: string;
      /** The signed-in account choosing a patient for a SMART launch context, with its FHIR identity and compartments. */
      account: { sub: string; fhirUser?: string; patients: string[] };
      /** The patient id chosen (bare id). */
      patient: string;
    }
  | {
      api: 'token_administration';
      now: string;
      /** The signed-in account asking to see and revoke every client's grants and tokens, with its roles. */
      account: { sub: string; roles: string[] };
    };

/** Output of `assent/access/decision` (schemas/policy/access.output.schema.json). */
export type AccessOutput =
  | { allow: true; reason: string }
  /** RFC 6750 §3.1: invalid_token (401), or insufficient_scope (403) with the scope to ask for. */
  | { allow: false; error: 'invalid_token'; reason: string }
  | { allow: false; error: 'insufficient_scope'; required_scope: string; reason: string }
  /** The person must sign in again first (OpenID Connect Core §3.1.2.6's login_required). */
  | { allow: false; error: 'login_required'; reason: string }
  /** An API the policy does not know. */
  | { allow: false; error: 'invalid_request'; reason: string }
  /** The account may not choose that patient (pick_patient), or administer tokens (token_administration). */
  | { allow: false; error: 'access_denied'; reason: string };

/** Input of `assent/registration/decision` (schemas/policy/registration.input.schema.json). */
export interface RegistrationInput {
  /** registration: RFC 7591/7592 at /register; operator: ASSENT_CLIENTS. */
  source: 'registration' | 'operator';
  /** The scopes the client is to be registered with. */
  scopes: readonly string[];
  /** The names of the client metadata members present. */
  members: readonly string[];
}

/** Output of `assent/registration/decision`: allow is false exactly when something is refused. */
export interface RegistrationOutput {
  allow: boolean;
  refused: { kind: 'scope' | 'member'; name: string; reason: 'operator_only' }[];
}

/** Every entrypoint of the bundle, by the name used in policies/entrypoints.json. */
export interface Entrypoints {
  consent: { input: ConsentInput; output: ConsentOutput };
  introspection: { input: IntrospectionInput; output: IntrospectionOutput };
  claims: { input: ClaimsInput; output: ClaimsOutput };
  exchange: { input: ExchangeInput; output: ExchangeOutput };
  access: { input: AccessInput; output: AccessOutput };
  registration: { input: RegistrationInput; output: RegistrationOutput };
  scopes: { input: ScopesInput; output: ScopesOutput };
}

export type EntrypointName = keyof Entrypoints;
export type EntrypointInput<E extends EntrypointName> = Entrypoints[E]['input'];
export type EntrypointOutput<E extends EntrypointName> = Entrypoints[E]['output'];
/** Entrypoint name → Rego path (e.g. `assent/consent/decision`), as the wasm module exports it. */
export type EntrypointPaths = Readonly<Record<EntrypointName, string>>;

const names: Record<EntrypointName, true> = { consent: true, introspection: true, claims: true, exchange: true, access: true, registration: true, scopes: true };
export const entrypointNames = Object.keys(names) as EntrypointName[];

/** Reads policies/entrypoints.json, requiring exactly the entrypoints this file types. */
export async function readEntrypointPaths(file: string = ENTRYPOINTS_FILE): Promise<EntrypointPaths> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: expected an object of entrypoint name → Rego path`);
  }
  const listed = Object.keys(parsed).sort();
  if (listed.join() !== [...entrypointNames].sort().join()) {
    throw new Error(`${file} lists [${listed}] but server/policy/entrypoints.ts types [${entrypointNames}]`);
  }
  const paths = parsed as Record<string, unknown>;
  for (const name of listed) {
    if (typeof paths[name] !== 'string') throw new Error(`${file}: path of ${name} is not a string`);
  }
  return paths as EntrypointPaths;
}
