import { randomBytes } from 'node:crypto';
import type { Config, OperatorClientConfig } from '../server/config/config.js';

/** Where the demo is served, and the FHIR server's own client secret (fresh at every start; the operator clients are upserted each start). */
export interface DemoAddress {
  /** http://localhost:<demoPort> */
  url: string;
  /** `${url}/fhir`: the FHIR base Assent protects. */
  base: string;
  /** `${url}/app/`: the SMART app page, also its redirect URI. */
  appUrl: string;
  fhirClientSecret: string;
}

export const FHIR_SERVER_CLIENT = 'demo-fhir-server';
export const SMART_APP_CLIENT = 'demo-smart-app';
export const SMART_APP_SCOPE = 'launch/patient openid fhirUser patient/*.rs offline_access';

export function demoAddress(port: number): DemoAddress {
  const url = `http://localhost:${port}`;
  return { url, base: `${url}/fhir`, appUrl: `${url}/app/`, fhirClientSecret: randomBytes(32).toString('base64url') };
}

/** The demo's two operator clients: the FHIR server (introspection, UMA protection) and the public SMART app. */
export function demoClients(demo: DemoAddress): OperatorClientConfig[] {
  return [
    {
      client_id: FHIR_SERVER_CLIENT,
      client_secret: demo.fhirClientSecret,
      client_name: 'Demo FHIR server',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [`${demo.url}/uma/callback`],
      scope: 'openid uma_protection offline_access',
      fhir_base_urls: [demo.base],
    },
    {
      client_id: SMART_APP_CLIENT,
      client_name: 'Demo SMART app',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [demo.appUrl],
      scope: SMART_APP_SCOPE,
    },
  ];
}

/** The configuration with the demo in it: its FHIR base protected, its clients configured (before the services start). */
export function withDemo(config: Config, demo: DemoAddress): Config {
  const others = (config.clients ?? []).filter((c) => c.client_id !== FHIR_SERVER_CLIENT && c.client_id !== SMART_APP_CLIENT);
  return {
    ...config,
    fhirBaseUrls: [...config.fhirBaseUrls.filter((b) => b !== demo.base), demo.base],
    clients: [...others, ...demoClients(demo)],
  };
}

/** ASSENT_DEMO: `false` never, `true` always; unset: only over the embedded store (never with MongoDB unless asked). */
export function demoWanted(env: NodeJS.ProcessEnv, config: Config): boolean {
  if (env.ASSENT_DEMO === 'false') return false;
  if (env.ASSENT_DEMO === 'true') return true;
  return config.mongodbUri === undefined;
}

/** ASSENT_DEMO_PORT, else Assent's port + 100 (4100 beside the default 4000), else any free port when Assent's is ephemeral. */
export function demoPort(env: NodeJS.ProcessEnv, config: Config): number {
  if (env.ASSENT_DEMO_PORT) return Number(env.ASSENT_DEMO_PORT);
  return config.port === 0 ? 0 : config.port + 100;
}
