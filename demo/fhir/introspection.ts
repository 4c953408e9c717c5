import type { Introspection } from './access.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Asks Assent what a bearer token is (RFC 7662), as the FHIR server's own client with client_secret_basic. */
export class Introspector {
  constructor(
    private readonly endpoint: string,
    private readonly credentials: ClientCredentials,
  ) {}

  async introspect(token: string): Promise<Introspection> {
    const basic = Buffer.from(`${encodeURIComponent(this.credentials.clientId)}:${encodeURIComponent(this.credentials.clientSecret)}`).toString('base64');
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ token }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`introspection at ${this.endpoint}: HTTP ${response.status}`);
    return (await response.json()) as Introspection;
  }
}
