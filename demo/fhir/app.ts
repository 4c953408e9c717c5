import Router from '@koa/router';
import Koa from 'koa';
import { Access, type Introspection } from './access.js';
import type { FhirResource, ResourceStore } from './resources.js';
import { bundle, capabilityStatement, operationOutcome } from './responses.js';

export interface FhirAppOptions {
  /** This server's FHIR base, e.g. http://localhost:4100/fhir. */
  base: string;
  /** Assent's issuer URL. */
  assentUrl: string;
  resources: ResourceStore;
  introspect(token: string): Promise<Introspection>;
}

const REALM = 'assent-demo-fhir';
type Ctx = Koa.ParameterizedContext;

/** The demo FHIR R4 server's routes under /fhir: discovery without a token, reads and searches with one. */
export function fhirRouter(options: FhirAppOptions): Router {
  const router = new Router({ prefix: '/fhir' });
  router.get('/metadata', (ctx) => fhir(ctx, 200, capabilityStatement(options.base, options.assentUrl, options.resources.types())));
  router.get('/.well-known/smart-configuration', (ctx) => smartConfiguration(ctx, options.assentUrl));
  router.get('/:type/:id', async (ctx) => {
    const access = await authorized(ctx, options);
    if (!access) return;
    const { type, id } = ctx.params as { type: string; id: string };
    const verdict = access.allowsType(type, 'r');
    if (!verdict.allowed) return forbidden(ctx, verdict.scope);
    const resource = options.resources.read(type, id);
    if (!resource) return fhir(ctx, 404, operationOutcome('not-found', `${type}/${id} is not here`));
    if (!access.allows(resource, 'r')) return forbidden(ctx, undefined);
    fhir(ctx, 200, resource);
  });
  router.get('/:type', async (ctx) => {
    const access = await authorized(ctx, options);
    if (!access) return;
    const { type } = ctx.params as { type: string };
    const verdict = access.allowsType(type, 's');
    if (!verdict.allowed) return forbidden(ctx, verdict.scope);
    const found = search(options.resources, type, ctx.query, access);
    fhir(ctx, 200, bundle(options.base, found));
  });
  return router;
}

/** The search parameters the demo knows: `patient` (also `subject=Patient/<id>` and `_id` for Patient) and `category` (code or system|code). */
function search(resources: ResourceStore, type: string, query: Ctx['query'], access: Access): FhirResource[] {
  const one = (name: string) => (Array.isArray(query[name]) ? query[name][0] : query[name]);
  const subject = one('subject')?.replace(/^Patient\//, '');
  const patient = one('patient') ?? subject ?? (type === 'Patient' ? one('_id') : undefined) ?? access.defaultPatient();
  const category = one('category');
  return resources
    .search(type, patient)
    .filter((r) => category === undefined || (r.category ?? []).some((c) => (c.coding ?? []).some((k) => category === k.code || category === `${k.system}|${k.code}`)))
    .filter((r) => access.allows(r, 's'));
}

/** The bearer token introspected at Assent; a missing or inactive one is answered 401 here (RFC 6750 §3). */
async function authorized(ctx: Ctx, options: FhirAppOptions): Promise<Access | undefined> {
  const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
  if (!token) return unauthorized(ctx, `Bearer realm="${REALM}"`, 'a bearer token is required');
  let answer: Introspection;
  try {
    answer = await options.introspect(token);
  } catch {
    fhir(ctx, 503, operationOutcome('transient', 'the authorization server could not be asked about this token'));
    return undefined;
  }
  if (answer.active !== true) return unauthorized(ctx, `Bearer realm="${REALM}", error="invalid_token", error_description="the token is not active"`, 'the token is not active');
  return new Access(answer);
}

function unauthorized(ctx: Ctx, challenge: string, text: string): undefined {
  ctx.set('WWW-Authenticate', challenge);
  fhir(ctx, 401, operationOutcome('login', text));
  return undefined;
}

function forbidden(ctx: Ctx, scope: string | undefined) {
  ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope"${scope ? `, scope="${scope}"` : ''}`);
  fhir(ctx, 403, operationOutcome('forbidden', scope ? `no granted scope allows this; it needs ${scope}` : 'this resource is outside what the token may reach'));
}

/** Assent's own SMART configuration, relayed (SMART App Launch §"Retrieving .well-known/smart-configuration"). */
async function smartConfiguration(ctx: Ctx, assentUrl: string) {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Cache-Control', 'no-cache');
  try {
    const response = await fetch(`${assentUrl}/.well-known/smart-configuration`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    ctx.status = response.status;
    ctx.type = 'application/json';
    ctx.body = await response.text();
  } catch {
    ctx.status = 502;
    ctx.body = { error: 'the authorization server did not answer' };
  }
}

function fhir(ctx: Ctx, status: number, body: unknown) {
  ctx.status = status;
  ctx.type = 'application/fhir+json';
  ctx.body = JSON.stringify(body);
}
