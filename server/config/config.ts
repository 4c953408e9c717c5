import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import ajvErrors from 'ajv-errors';
import formats from 'ajv-formats';
import { upstreamIssuer } from '../federation/issuers.js';
import { normalizeFhirBase } from '../smart/fhir-base.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Config {
  /** Absent: the server's own bound URL (http://localhost:<port>). */
  issuer?: string;
  port: number;
  host?: string;
  dataDir: string;
  mongodbUri?: string;
  mongodbDb: string;
  keySecret?: string;
  demoPassword?: string;
  logLevel: LogLevel;
  policyBundle: string;
  accessTokenTtl: number;
  idTokenTtl: number;
  refreshTokenTtl: number;
  keyCacheSeconds: number;
  /** Decision records are kept this long, then archived (embedded) or deleted (MongoDB). */
  decisionRetentionDays: number;
  /** Embedded store: size (bytes) at which the decision log begins its next segment. */
  decisionSegmentBytes: number;
  /** HTTP: the longest a client may take to send a request's headers (ms). */
  headersTimeoutMs: number;
  /** HTTP: the longest a client may take to send a whole request, headers and body (ms). */
  requestTimeoutMs: number;
  /** HTTP: how long an idle keep-alive connection stays open for the next request (ms). */
  keepAliveTimeoutMs: number;
  /** HTTP: a connection with no traffic either way for this long is closed (ms). */
  socketIdleTimeoutMs: number;
  sweepIntervalSeconds: number;
  sweepLimit: number;
  registrationAccessPolicy: 'open' | 'token';
  initialAccessToken?: string;
  allowInsecureRedirects?: boolean;
  upstreamProviders?: UpstreamProviderConfig[];
  /** Operator-configured clients (server/oauth/clients/operator-clients.ts), upserted at every start-up. */
  clients?: OperatorClientConfig[];
  /** The FHIR servers Assent protects: a SMART authorization request's `aud` must be one of them (no trailing slash). */
  fhirBaseUrls: string[];
}

/** An operator-configured client: RFC 7591 client metadata (checked against schemas/client-metadata.schema.json) plus its credentials. */
export interface OperatorClientConfig {
  client_id: string;
  client_secret?: string;
  [member: string]: unknown;
}

/** An upstream identity provider (schemas/config.schema.json#/properties/upstreamProviders). */
export interface UpstreamProviderConfig {
  id: string;
  type: 'google' | 'oidc' | 'oauth2';
  issuer?: string;
  clientId: string;
  clientSecret?: string;
  scopes?: string[];
  displayName: string;
  logoUri?: string;
  claimMapping?: Record<string, string>;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  userinfoEndpoint?: string;
  /** oauth2: the user endpoint's member that identifies the user (default `sub`; GitHub: `id`). */
  subjectClaim?: string;
  /** Upstream client id (an ID token's azp, else aud) → the Assent clients that may present such ID tokens. */
  claimTokenAudiences?: Record<string, string[]>;
  allowInsecureRequests?: boolean;
}

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Each configuration key, the environment variable that sets it, and how its text is read. */
const ENVIRONMENT: { key: keyof Config; env: string; kind: 'string' | 'integer' | 'boolean' | 'json' | 'list' }[] = [
  { key: 'issuer', env: 'ASSENT_ISSUER', kind: 'string' },
  { key: 'port', env: 'ASSENT_PORT', kind: 'integer' },
  { key: 'host', env: 'ASSENT_HOST', kind: 'string' },
  { key: 'dataDir', env: 'ASSENT_DATA_DIR', kind: 'string' },
  { key: 'mongodbUri', env: 'ASSENT_MONGODB_URI', kind: 'string' },
  { key: 'mongodbDb', env: 'ASSENT_MONGODB_DB', kind: 'string' },
  { key: 'keySecret', env: 'ASSENT_KEY_SECRET', kind: 'string' },
  { key: 'demoPassword', env: 'ASSENT_DEMO_PASSWORD', kind: 'string' },
  { key: 'logLevel', env: 'ASSENT_LOG_LEVEL', kind: 'string' },
  { key: 'policyBundle', env: 'ASSENT_POLICY_BUNDLE', kind: 'string' },
  { key: 'accessTokenTtl', env: 'ASSENT_ACCESS_TOKEN_TTL', kind: 'integer' },
  { key: 'idTokenTtl', env: 'ASSENT_ID_TOKEN_TTL', kind: 'integer' },
  { key: 'refreshTokenTtl', env: 'ASSENT_REFRESH_TOKEN_TTL', kind: 'integer' },
  { key: 'keyCacheSeconds', env: 'ASSENT_KEY_CACHE_SECONDS', kind: 'integer' },
  { key: 'decisionRetentionDays', env: 'ASSENT_DECISION_RETENTION_DAYS', kind: 'integer' },
  { key: 'decisionSegmentBytes', env: 'ASSENT_DECISION_SEGMENT_BYTES', kind: 'integer' },
  { key: 'headersTimeoutMs', env: 'ASSENT_HEADERS_TIMEOUT_MS', kind: 'integer' },
  { key: 'requestTimeoutMs', env: 'ASSENT_REQUEST_TIMEOUT_MS', kind: 'integer' },
  { key: 'keepAliveTimeoutMs', env: 'ASSENT_KEEPALIVE_TIMEOUT_MS', kind: 'integer' },
  { key: 'socketIdleTimeoutMs', env: 'ASSENT_SOCKET_IDLE_TIMEOUT_MS', kind: 'integer' },
  { key: 'sweepIntervalSeconds', env: 'ASSENT_SWEEP_INTERVAL_SECONDS', kind: 'integer' },
  { key: 'sweepLimit', env: 'ASSENT_SWEEP_LIMIT', kind: 'integer' },
  { key: 'registrationAccessPolicy', env: 'ASSENT_REGISTRATION', kind: 'string' },
  { key: 'initialAccessToken', env: 'ASSENT_INITIAL_ACCESS_TOKEN', kind: 'string' },
  { key: 'allowInsecureRedirects', env: 'ASSENT_ALLOW_INSECURE_REDIRECTS', kind: 'boolean' },
  { key: 'upstreamProviders', env: 'ASSENT_UPSTREAM_PROVIDERS', kind: 'json' },
  { key: 'fhirBaseUrls', env: 'ASSENT_FHIR_BASE_URLS', kind: 'list' },
  { key: 'clients', env: 'ASSENT_CLIENTS', kind: 'json' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DEFAULT_PORT = 4000;

/**
 * Reads the configuration from the JSON file named by ASSENT_CONFIG (if any) and the ASSENT_*
 * environment variables (which win), fills defaults and validates the result against
 * schemas/config.schema.json. Throws ConfigError naming the offending key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = env.ASSENT_CONFIG ? readConfigFile(env.ASSENT_CONFIG) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const { key, env: name, kind } of ENVIRONMENT) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    fromEnv[key] = parseText(text, kind, `${name} (${key})`);
  }
  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv };
  const candidate = {
    port: DEFAULT_PORT,
    dataDir: './data',
    mongodbDb: 'assent',
    logLevel: 'info',
    policyBundle: path.join(projectRoot, 'policies/build/policy.wasm'),
    accessTokenTtl: 300,
    idTokenTtl: 3600,
    refreshTokenTtl: 30 * 86400,
    keyCacheSeconds: 60,
    decisionRetentionDays: 400,
    decisionSegmentBytes: 64 * 1024 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    socketIdleTimeoutMs: 30_000,
    sweepIntervalSeconds: 60,
    sweepLimit: 50_000,
    registrationAccessPolicy: 'open',
    fhirBaseUrls: [],
    ...merged,
  };
  const validate = validator();
  if (!validate(candidate)) throw new ConfigError(describe(validate.errors ?? []));
  const config = candidate as Config;
  if (config.registrationAccessPolicy === 'token' && !config.initialAccessToken) {
    throw new ConfigError('ASSENT_INITIAL_ACCESS_TOKEN (initialAccessToken): required when ASSENT_REGISTRATION is token');
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError('ASSENT_HEADERS_TIMEOUT_MS (headersTimeoutMs): must not exceed ASSENT_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (config.mongodbUri && !config.keySecret) {
    throw new ConfigError('ASSENT_KEY_SECRET (keySecret): required when ASSENT_MONGODB_URI is set');
  }
  for (const [what, values] of [
    ['provider id', (config.upstreamProviders ?? []).map((provider) => provider.id)],
    ['issuer', (config.upstreamProviders ?? []).map(upstreamIssuer)],
  ] as const) {
    const twice = values.find((value, index) => values.indexOf(value) !== index);
    if (twice) throw new ConfigError(`ASSENT_UPSTREAM_PROVIDERS (upstreamProviders): ${what} ${twice} is used by two providers`);
  }
  checkClients(config.clients ?? []);
  return { ...config, dataDir: path.resolve(config.dataDir), fhirBaseUrls: config.fhirBaseUrls.map(normalizeFhirBase) };
}

/** Each operator client's metadata (all but its credentials) against the client metadata schema, no unknown member allowed; client_ids unique. */
function checkClients(clients: OperatorClientConfig[]) {
  const validate = metadataValidator();
  const problems = clients.flatMap(({ client_id: _id, client_secret: _secret, ...metadata }, index) =>
    validate(metadata) ? [] : (validate.errors ?? []).map((e) => {
      const member = (e.params as { additionalProperty?: string }).additionalProperty;
      const where = `clients/${index}${e.instancePath}${member ? `/${member}` : ''}`;
      return `ASSENT_CLIENTS (${where}): ${member ? 'unknown client metadata member' : problem(e)}`;
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  const ids = clients.map((client) => client.client_id);
  const twice = ids.find((id, index) => ids.indexOf(id) !== index);
  if (twice) throw new ConfigError(`ASSENT_CLIENTS (clients): client_id ${twice} is configured twice`);
}

/** Environment text as the type the schema expects; other text that does not fit stays text, so the schema names the problem. */
function parseText(text: string, kind: 'string' | 'integer' | 'boolean' | 'json' | 'list', label: string): unknown {
  if (kind === 'json') return parseJson(text, label);
  if (kind === 'list') return text.split(',').map((item) => item.trim()).filter(Boolean);
  if (kind === 'integer' && /^-?\d+$/.test(text)) return Number(text);
  if (kind === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${label}: not valid JSON (${(err as Error).message})`);
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`ASSENT_CONFIG: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const parsed = parseJson(text, `ASSENT_CONFIG: ${file}`);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`ASSENT_CONFIG: ${file} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;
function validator() {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/config.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    formats.default(ajv);
    // The schema's errorMessage says in words what a `pattern` expects, so no message shows a regex.
    ajvErrors.default(ajv);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

let compiledMetadata: ReturnType<Ajv2020['compile']> | undefined;
function metadataValidator() {
  if (!compiledMetadata) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/client-metadata.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    formats.default(ajv);
    compiledMetadata = ajv.compile(schema);
  }
  return compiledMetadata;
}

/** One line naming each offending key and what it must be: enums list their values, patterns their format in words. */
function describe(errors: ErrorObject[]): string {
  return errors
    // An `if`/`then` failure repeats, less precisely, the `required` error reported next to it.
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const where = e.instancePath.slice(1) || (e.params as { additionalProperty?: string }).additionalProperty || '';
      const env = ENVIRONMENT.find((x) => x.key === where.split('/')[0])?.env;
      const label = env ? `${env} (${where})` : where;
      return `${label}: ${problem(e)}`;
    })
    .join('; ');
}

function problem(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties' && !e.instancePath) return 'unknown configuration key';
  if (e.keyword === 'enum') return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  // A pattern without an errorMessage in the schema: still never show the regex.
  if (e.keyword === 'pattern') return 'is not in the expected format';
  return e.message ?? 'is invalid';
}
