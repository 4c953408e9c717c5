import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserlessUser, AuthorizeOptions } from './browserless-user.js';
import { RawClient } from './oauth-flow.js';

/**
 * A tiny FHIR-like UMA resource server (node:http on an ephemeral loopback port), as in the HIE of
 * One walkthrough: it holds one patient's resources, gets a PAT from the authorization server
 * through the code flow (the patient signs in and consents to `uma_protection`), registers each
 * resource at the resource registration endpoint, answers a request without a sufficient RPT with
 * `401` and `WWW-Authenticate: UMA realm, as_uri, ticket` (the ticket from the permission
 * endpoint), and serves a request whose RPT — introspected at the authorization server with this
 * resource server's own client credentials — carries a permission for that resource and scope.
 */

export interface HeldResource {
  /** Path on this server, e.g. `/fhir/MedicationStatement`. */
  path: string;
  /** Resource type registered at the authorization server (what a sharing rule names). */
  type: string;
  name: string;
  /** The FHIR JSON served on an authorised read. */
  body: unknown;
}

/** How the resource server reaches the protection API (UMA Federated Authorization §3, §4). */
export interface ProtectionApi {
  register(pat: string, description: { name: string; type: string; resource_scopes: string[] }): Promise<string>;
  permission(pat: string, permissions: { resource_id: string; resource_scopes: string[] }[]): Promise<string>;
}

export interface ResourceServerOptions {
  /** The authorization server (its issuer). */
  asUrl: string;
  clientId: string;
  secret: string;
  redirectUri: string;
  resources: HeldResource[];
  /** Default: the authorization server's HTTP protection API. */
  protection?: ProtectionApi;
}

export interface Read {
  status: number;
  body: unknown;
  /** From a 401's `WWW-Authenticate: UMA …` header. */
  ticket?: string;
  asUri?: string;
  realm?: string;
}

const READ = 'read';
const SCOPES = [READ, 'write'];
const REALM = 'assent-walkthrough-fhir';

export class UmaResourceServer {
  readonly client: RawClient;
  /** Resource path → id at the authorization server (after `connect`). */
  readonly ids = new Map<string, string>();
  /** Every introspection answer seen, newest last (for assertions). */
  readonly introspections: Record<string, unknown>[] = [];
  private pat: string | undefined;

  private constructor(
    readonly url: string,
    private readonly server: http.Server,
    private readonly options: ResourceServerOptions,
    private readonly protection: ProtectionApi,
  ) {
    this.client = new RawClient(options.asUrl, options.clientId, options.redirectUri, options.secret);
  }

  static async start(options: ResourceServerOptions): Promise<UmaResourceServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const rs = new UmaResourceServer(`http://127.0.0.1:${port}`, server, options, options.protection ?? httpProtection(options.asUrl));
    server.on('request', (req, res) => {
      rs.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    return rs;
  }

  /** The owner signs in and consents (code flow, `openid uma_protection offline_access`); then every held resource is registered. */
  async connect(owner: BrowserlessUser, login: AuthorizeOptions = {}): Promise<void> {
    const tokens = await this.client.tokens(owner, { scope: 'openid uma_protection offline_access' }, login);
    if (!tokens.scope.split(' ').includes('uma_protection')) throw new Error(`no uma_protection in the PAT: ${tokens.scope}`);
    this.pat = tokens.access_token;
    for (const resource of this.options.resources) {
      this.ids.set(resource.path, await this.protection.register(this.pat, { name: resource.name, type: resource.type, resource_scopes: SCOPES }));
    }
  }

  idOf(path: string): string {
    const id = this.ids.get(path);
    if (!id) throw new Error(`resource ${path} is not registered`);
    return id;
  }

  /** A client's GET of a resource, with an RPT or without. */
  async read(path: string, rpt?: string): Promise<Read> {
    const response = await fetch(`${this.url}${path}`, { headers: rpt ? { Authorization: `Bearer ${rpt}` } : {} });
    const text = await response.text();
    const challenge = parseUmaChallenge(response.headers.get('www-authenticate'));
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, ...challenge };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const resource = this.options.resources.find((r) => r.path === path);
    if (req.method !== 'GET' || !resource) return json(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    if (!this.pat) throw new Error('the resource server is not connected to the authorization server');
    const id = this.idOf(path);
    const rpt = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (rpt && (await this.permits(rpt, id, READ))) return json(res, 200, resource.body);
    // UMA 2.0 Grant §3.2: no RPT, or one without a permission for this: a ticket for exactly what was tried.
    const ticket = await this.protection.permission(this.pat, [{ resource_id: id, resource_scopes: [READ] }]);
    res.writeHead(401, { 'WWW-Authenticate': `UMA realm="${REALM}", as_uri="${this.options.asUrl}", ticket="${ticket}"`, 'Content-Type': 'application/json' });
    res.end();
  }

  /** Introspects the RPT (RFC 7662, UMA Federated Authorization §5) and looks for an unexpired permission for the resource and scope. */
  private async permits(rpt: string, resourceId: string, scope: string): Promise<boolean> {
    const details = await this.client.introspect(rpt);
    this.introspections.push(details);
    if (details.active !== true || !Array.isArray(details.permissions)) return false;
    const now = Date.now() / 1000;
    return (details.permissions as { resource_id: string; resource_scopes: string[]; exp?: number }[]).some(
      (p) => p.resource_id === resourceId && p.resource_scopes.includes(scope) && (p.exp === undefined || p.exp > now),
    );
  }
}

/** `UMA realm="…", as_uri="…", ticket="…"` → its parameters. */
export function parseUmaChallenge(header: string | null): { realm?: string; asUri?: string; ticket?: string } {
  if (!header || !/^UMA\s/i.test(header)) return {};
  const params = Object.fromEntries([...header.matchAll(/([a-z_]+)="([^"]*)"/gi)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  return { realm: params.realm, asUri: params.as_uri, ticket: params.ticket };
}

/** The authorization server's protection API over HTTP with the PAT. */
export function httpProtection(asUrl: string): ProtectionApi {
  const call = async (path: string, pat: string, body: unknown) => {
    const response = await fetch(`${asUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${pat}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  return {
    register: async (pat, description) => String((await call('/uma/resource_set', pat, description))._id),
    permission: async (pat, permissions) => String((await call('/uma/permission', pat, permissions)).ticket),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}
